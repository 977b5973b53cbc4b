#pragma once
// Asking every loop of a multi-loop server a question and gathering the answers on the loop that
// asked: what a /metrics scrape, an admin snapshot or "disconnect this user" needs when the state
// it reads lives per loop (each loop's part touched only on its own thread). Nothing is locked:
// each loop answers on its own thread, in one post there and one post back, and the answers
// are put together on the asking loop's thread. Rare work (a scrape, an API call), never per
// message.
#include <cstddef>
#include <functional>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

#include "net/loop.h"

namespace duplex::net {

// Runs `ask(loop)` on each loop's thread and hands the answers, in the order of `loops`, to
// `done` on the calling thread's loop (which must be running, and be one of `loops` or not).
// `done` always runs later, never inside this call. A loop that stops before it answers leaves
// `done` uncalled: what `ask` and `done` capture must not need it to run (a LaterResponse, a
// Lifeline handle, shared state).
template <class T>
void askEveryLoop(const std::vector<Loop*>& loops, std::function<T(Loop&)> ask,
                  std::function<void(std::vector<T>)> done) {
  Loop* here = Loop::current();
  if (!here) throw std::logic_error("askEveryLoop: not called on a loop's thread");
  struct Gathering {
    std::vector<T> answers;
    size_t waiting;
    std::function<void(std::vector<T>)> done;
  };
  auto gathering = std::make_shared<Gathering>();
  gathering->answers.resize(loops.size());
  gathering->waiting = loops.size();
  gathering->done = std::move(done);
  auto ask_ = std::make_shared<std::function<T(Loop&)>>(std::move(ask));
  auto answered = [gathering](size_t i, T answer) {
    gathering->answers[i] = std::move(answer);
    if (--gathering->waiting == 0) gathering->done(std::move(gathering->answers));
  };
  for (size_t i = 0; i < loops.size(); ++i) {
    Loop* loop = loops[i];
    if (loop == here) {
      here->defer([i, loop, ask_, answered] { answered(i, (*ask_)(*loop)); });
      continue;
    }
    loop->post([i, loop, here, ask_, answered] {
      here->post(
          [i, answered, answer = (*ask_)(*loop)]() mutable { answered(i, std::move(answer)); });
    });
  }
  if (loops.empty()) {
    here->defer([gathering] { gathering->done({}); });
  }
}

}  // namespace duplex::net
