#pragma once
// What a callback captures instead of `this` when it is stored where its owner cannot take it
// back: a route in an App's table, a task deferred or posted to a loop, a signal handler. The
// handle yields the owner while it lives and null once it is gone, so a callback that outlives
// its owner does nothing instead of calling into freed memory.
//
// Single-threaded like the loop: handles are read on the owner's thread. A handle may be
// copied on another thread (a task handed to Loop::post carries one), which only touches the
// reference count.
#include <memory>

namespace duplex::net {

template <class T>
class Lifeline {
 public:
  class Handle {
   public:
    // The owner, or null once its Lifeline was cut.
    T* get() const { return *owner_; }

   private:
    friend class Lifeline;
    explicit Handle(std::shared_ptr<T*> owner) : owner_(std::move(owner)) {}
    std::shared_ptr<T*> owner_;
  };

  explicit Lifeline(T* owner) : owner_(std::make_shared<T*>(owner)) {}
  ~Lifeline() { cut(); }
  Lifeline(const Lifeline&) = delete;
  Lifeline& operator=(const Lifeline&) = delete;

  // From now on every handle yields null. An owner whose destructor still does work that can
  // call back (closing connections) cuts first, so those callbacks see it gone.
  void cut() { *owner_ = nullptr; }
  Handle handle() const { return Handle(owner_); }

 private:
  std::shared_ptr<T*> owner_;
};

}  // namespace duplex::net
