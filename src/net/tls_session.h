#pragma once
// The TLS state of one connection: an OpenSSL SSL driven without a socket. The Socket keeps
// doing its own recv and sendmsg (so corking stays one syscall per iteration): it hands each
// read's ciphertext to the session, which decrypts it into a buffer the caller gives; and at
// flush time the session encrypts the queued plaintext in one batch, writing the records
// straight into a ciphertext queue ("the wire") that the Socket sends like any other queue.
//
// A custom BIO rather than OpenSSL's memory BIOs: the read side hands OpenSSL the bytes where
// recv put them, and the write side appends records to pooled chunks. Memory BIOs would add a
// copy each way and keep per-connection buffers as large as the largest message ever sent.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "net/out_queue.h"

struct ssl_st;  // OpenSSL's SSL
struct bio_st;  // OpenSSL's BIO

namespace duplex::net {

class Loop;
class TlsContext;

class TlsSession {
 public:
  // A server connection, answering the peer's ClientHello.
  static std::unique_ptr<TlsSession> accept(const TlsContext& context, Loop& loop);
  // A client connection. `serverName` goes into SNI (unless it is an IP literal, RFC 6066 3)
  // and, when the context verifies, must match the certificate (name or IP address).
  static std::unique_ptr<TlsSession> connect(const TlsContext& context, Loop& loop,
                                             std::string_view serverName);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  enum class Result : uint8_t {
    Progress,    // handshake: done; read: the output buffer is full, call again
    WantInput,   // everything received so far is consumed
    PeerClosed,  // the peer sent close_notify
    Failed,      // see failure()
  };

  // Ciphertext for the next handshake()/read() calls; it must stay valid during them, and they
  // consume all of it unless they fail.
  void feed(std::span<const uint8_t> ciphertext) { input_ = ciphertext; }
  bool established() const { return established_; }
  // One step of the handshake (the client's first call writes the ClientHello).
  Result handshake();
  // Decrypts into `out` until it is full or the input is consumed; `produced` bytes are valid.
  Result read(std::span<uint8_t> out, size_t& produced);
  // Encrypts from the front of `plain` into the wire, in records of up to 16 KiB built from
  // consecutive segments, until `plain` is empty or the wire holds kWireHighWater bytes (the
  // rest waits: under backpressure shared broadcast chunks stay shared). False on failure.
  bool encrypt(OutQueue& plain);
  // Queues close_notify once; false when the session cannot (failed, or not established).
  bool shutdown();

  // Ciphertext waiting for the kernel: the Socket sends this queue and releases it when empty.
  OutQueue*& wire() { return wire_; }
  size_t wireSize() const { return wire_ ? wire_->size() : 0; }
  // Why the last call failed, for logs and the client's error callback. Call it right after the
  // failure (it reads OpenSSL's per-thread error queue).
  std::string failure();

  // ALPN protocol and version the handshake agreed ("http/1.1", "TLSv1.3"), for tests and logs.
  std::string_view alpn() const;
  std::string_view version() const;

  static constexpr size_t kWireHighWater = 256 * 1024;
  static constexpr size_t kMaxRecordPlaintext = 16 * 1024;  // RFC 8446 5.1

 private:
  TlsSession(ssl_st* ssl, Loop& loop);
  static int bioRead(::bio_st* bio, char* out, int size);
  static int bioWrite(::bio_st* bio, const char* data, int size);
  bool writeRecords(const uint8_t* data, size_t size);

  ssl_st* ssl_;
  Loop* loop_;
  OutQueue* wire_ = nullptr;  // from the loop's pool while ciphertext waits
  std::span<const uint8_t> input_;
  bool established_ = false;
  bool failed_ = false;
  bool shutdownSent_ = false;
};

}  // namespace duplex::net
