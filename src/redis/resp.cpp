#include "redis/resp.h"

#include <hiredis/read.h>

#include <charconv>
#include <cstring>

namespace duplex::redis {
namespace {

size_t digits(size_t n) {
  size_t count = 1;
  while (n >= 10) {
    n /= 10;
    ++count;
  }
  return count;
}

uint8_t* writeHeader(uint8_t* out, char kind, size_t n) {
  *out++ = static_cast<uint8_t>(kind);
  char* end = std::to_chars(reinterpret_cast<char*>(out), reinterpret_cast<char*>(out) + 20, n).ptr;
  out = reinterpret_cast<uint8_t*>(end);
  *out++ = '\r';
  *out++ = '\n';
  return out;
}

uint8_t* writeBulk(uint8_t* out, std::string_view arg) {
  out = writeHeader(out, '$', arg.size());
  if (!arg.empty()) std::memcpy(out, arg.data(), arg.size());
  out += arg.size();
  *out++ = '\r';
  *out++ = '\n';
  return out;
}

}  // namespace

size_t encodedSize(std::span<const std::string> args) {
  size_t size = 1 + digits(args.size()) + 2;
  for (const std::string& arg : args) size += 1 + digits(arg.size()) + 2 + arg.size() + 2;
  return size;
}

uint8_t* encodeCommand(std::span<const std::string> args, uint8_t* out) {
  out = writeHeader(out, '*', args.size());
  for (const std::string& arg : args) out = writeBulk(out, arg);
  return out;
}

std::string encodeCommand(std::initializer_list<std::string_view> args) {
  size_t size = 1 + digits(args.size()) + 2;
  for (std::string_view arg : args) size += 1 + digits(arg.size()) + 2 + arg.size() + 2;
  std::string bytes(size, '\0');
  uint8_t* out = reinterpret_cast<uint8_t*>(bytes.data());
  out = writeHeader(out, '*', args.size());
  for (std::string_view arg : args) out = writeBulk(out, arg);
  return bytes;
}

// hiredis calls these while ReplyReader::next runs redisReaderGetReply; `building` is that
// reader (a thread-local rather than hiredis's privdata, whose propagation to the root task
// differs between hiredis versions).
struct ReplyBuilder {
  static thread_local ReplyReader* building;

  // The object a task fills: the reader's root, or an element of its parent array (which
  // createArray sized, so the pointer stays valid until the reply is handed out). Objects are
  // reused: each create function resets what its type does not use, keeping capacity, so an
  // owner that hands the same Reply back for every message (Subscriber) allocates nothing once
  // its messages have been seen at their size.
  static Reply* target(const redisReadTask* task) {
    if (!task->parent) return &building->root_;
    return &static_cast<Reply*>(task->parent->obj)->elements[static_cast<size_t>(task->idx)];
  }
  static void* createString(const redisReadTask* task, char* bytes, size_t size) {
    Reply* reply = target(task);
    reply->type = task->type == REDIS_REPLY_ERROR    ? Reply::Type::Error
                  : task->type == REDIS_REPLY_STATUS ? Reply::Type::Status
                                                     : Reply::Type::String;
    reply->integer = 0;
    reply->elements.clear();
    // One huge value must not stay reserved for the connection's life.
    if (reply->string.capacity() > kKeptCapacity && size < reply->string.capacity() / 4) {
      std::string().swap(reply->string);
    }
    reply->string.assign(bytes, size);
    return reply;
  }
  static void* createArray(const redisReadTask* task, int elements) {
    Reply* reply = target(task);
    reply->type = Reply::Type::Array;
    reply->integer = 0;
    reply->string.clear();
    // Elements kept from an earlier reply are each overwritten by their own create call.
    if (reply->elements.capacity() > kKeptCapacity && static_cast<size_t>(elements) < 16) {
      std::vector<Reply>().swap(reply->elements);
    }
    reply->elements.resize(static_cast<size_t>(elements));
    return reply;
  }
  static void* createInteger(const redisReadTask* task, long long value) {
    Reply* reply = target(task);
    reply->type = Reply::Type::Integer;
    reply->integer = value;
    reply->string.clear();
    reply->elements.clear();
    return reply;
  }
  static void* createNil(const redisReadTask* task) {
    Reply* reply = target(task);
    reply->type = Reply::Type::Nil;
    reply->integer = 0;
    reply->string.clear();
    reply->elements.clear();
    return reply;
  }
  static constexpr size_t kKeptCapacity = 64 * 1024;
  // Only ever called on the root (a reply abandoned by a protocol error, or the reader freed
  // with a reply half built), which the reader owns.
  static void freeObject(void*) {}
};

thread_local ReplyReader* ReplyBuilder::building = nullptr;

namespace {
redisReplyObjectFunctions replyFunctions = {
    ReplyBuilder::createString, ReplyBuilder::createArray, ReplyBuilder::createInteger,
    ReplyBuilder::createNil,    ReplyBuilder::freeObject,
};
}  // namespace

ReplyReader::ReplyReader() {
  reset();
}

ReplyReader::~ReplyReader() {
  if (reader_) redisReaderFree(reader_);
}

void ReplyReader::reset() {
  if (reader_) redisReaderFree(reader_);
  reader_ = redisReaderCreateWithFunctions(&replyFunctions);
  if (!reader_) throw std::bad_alloc();
  // hiredis frees its buffer when it is empty and larger than this; a reply of several
  // megabytes then does not pin that much memory per connection for ever.
  reader_->maxbuf = 64 * 1024;
}

bool ReplyReader::feed(std::span<const uint8_t> bytes) {
  return redisReaderFeed(reader_, reinterpret_cast<const char*>(bytes.data()), bytes.size()) ==
         REDIS_OK;
}

ReplyReader::Next ReplyReader::next(Reply& out) {
  void* reply = nullptr;
  ReplyBuilder::building = this;
  int status = redisReaderGetReply(reader_, &reply);
  ReplyBuilder::building = nullptr;
  if (status != REDIS_OK) return Next::Error;
  if (!reply) return Next::NeedMore;
  // Swapped, not moved: the root takes over `out`'s storage for the next reply.
  std::swap(out, root_);
  return Next::Reply;
}

std::string ReplyReader::error() const {
  return reader_->errstr;
}

}  // namespace duplex::redis
