#include "net/tls_session.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <string>

#include "net/loop.h"
#include "net/tls_context.h"
#include "net/tls_errors.h"

namespace duplex::net {
namespace {

// One BIO type for every session: reads come from the session's current input, writes go to
// its wire queue. Created once, never freed (OpenSSL keeps using it until exit).
BIO_METHOD* bioMethod(int (*read)(BIO*, char*, int), int (*write)(BIO*, const char*, int)) {
  static BIO_METHOD* method = [&] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "duplex socket");
    BIO_meth_set_read(m, read);
    BIO_meth_set_write(m, write);
    // OpenSSL flushes after each handshake flight and fails the handshake if that fails;
    // everything else it may ask (pending bytes, kTLS) is "no" here.
    BIO_meth_set_ctrl(m, [](BIO*, int command, long, void*) -> long {
      return command == BIO_CTRL_FLUSH ? 1 : 0;
    });
    return m;
  }();
  return method;
}

bool isIpLiteral(const std::string& host) {
  unsigned char address[16];
  return inet_pton(AF_INET, host.c_str(), address) == 1 ||
         inet_pton(AF_INET6, host.c_str(), address) == 1;
}

}  // namespace

TlsSession::TlsSession(SSL* ssl, Loop& loop) : ssl_(ssl), loop_(&loop) {
  BIO* bio = BIO_new(bioMethod(&TlsSession::bioRead, &TlsSession::bioWrite));
  BIO_set_data(bio, this);
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl_, bio, bio);  // one BIO both ways: SSL takes the single reference
}

TlsSession::~TlsSession() {
  SSL_free(ssl_);
  if (wire_) loop_->releaseQueue(wire_);
}

std::unique_ptr<TlsSession> TlsSession::accept(const TlsContext& context, Loop& loop) {
  ERR_clear_error();
  SSL* ssl = SSL_new(context.native());
  if (!ssl) throw TlsError("cannot create a TLS session: " + takeTlsErrors());
  SSL_set_accept_state(ssl);
  return std::unique_ptr<TlsSession>(new TlsSession(ssl, loop));
}

std::unique_ptr<TlsSession> TlsSession::connect(const TlsContext& context, Loop& loop,
                                                std::string_view serverName) {
  ERR_clear_error();
  SSL* ssl = SSL_new(context.native());
  if (!ssl) throw TlsError("cannot create a TLS session: " + takeTlsErrors());
  std::unique_ptr<TlsSession> session(new TlsSession(ssl, loop));
  std::string name(serverName);
  bool ip = isIpLiteral(name);
  // RFC 6066 3: SNI carries host names only, never address literals.
  if (!ip && !name.empty()) SSL_set_tlsext_host_name(ssl, name.c_str());
  if (context.verifiesPeer()) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    bool set = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str()) == 1
                  : SSL_set1_host(ssl, name.c_str()) == 1;
    if (!set) throw TlsError("cannot check the server's name against \"" + name + "\"");
  }
  SSL_set_connect_state(ssl);
  return session;
}

int TlsSession::bioRead(BIO* bio, char* out, int size) {
  auto* session = static_cast<TlsSession*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  if (session->input_.empty()) {
    BIO_set_retry_read(bio);  // "would block": the socket calls again when more arrives
    return -1;
  }
  size_t n = std::min(session->input_.size(), static_cast<size_t>(size));
  std::memcpy(out, session->input_.data(), n);
  session->input_ = session->input_.subspan(n);
  return static_cast<int>(n);
}

int TlsSession::bioWrite(BIO* bio, const char* data, int size) {
  auto* session = static_cast<TlsSession*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  if (!session->wire_) session->wire_ = session->loop_->acquireQueue();
  session->wire_->appendCopy(reinterpret_cast<const uint8_t*>(data), static_cast<size_t>(size));
  return size;
}

TlsSession::Result TlsSession::handshake() {
  if (failed_) return Result::Failed;
  if (established_) return Result::Progress;
  ERR_clear_error();
  int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    established_ = true;
    return Result::Progress;
  }
  int error = SSL_get_error(ssl_, r);
  if (error == SSL_ERROR_WANT_READ) return Result::WantInput;
  failed_ = true;
  return Result::Failed;
}

TlsSession::Result TlsSession::read(std::span<uint8_t> out, size_t& produced) {
  produced = 0;
  if (failed_) return Result::Failed;
  ERR_clear_error();
  while (produced < out.size()) {
    size_t room = std::min(out.size() - produced, static_cast<size_t>(INT_MAX));
    int n = SSL_read(ssl_, out.data() + produced, static_cast<int>(room));
    if (n > 0) {
      produced += static_cast<size_t>(n);
      continue;
    }
    switch (SSL_get_error(ssl_, n)) {
      case SSL_ERROR_WANT_READ:
        return Result::WantInput;
      case SSL_ERROR_ZERO_RETURN:
        return Result::PeerClosed;
      default:
        failed_ = true;
        return Result::Failed;
    }
  }
  return Result::Progress;
}

bool TlsSession::writeRecords(const uint8_t* data, size_t size) {
  ERR_clear_error();
  // Our BIO never refuses bytes, so SSL_write takes everything or fails.
  if (SSL_write(ssl_, data, static_cast<int>(size)) == static_cast<int>(size)) return true;
  failed_ = true;
  return false;
}

bool TlsSession::encrypt(OutQueue& plain) {
  if (failed_ || !established_) return false;
  // Frames smaller than a record are gathered here so that a loop iteration's worth of small
  // messages becomes a few full records, not one record (and 22+ bytes of overhead) each.
  uint8_t staging[kMaxRecordPlaintext];
  // Large pieces go to SSL_write directly, a few records at a time so the high-water check
  // keeps up.
  constexpr size_t kDirectStep = 4 * kMaxRecordPlaintext;
  constexpr int kMaxIov = 64;
  size_t staged = 0;  // copies: the segments they came from are consumed at once
  while (!plain.empty() && wireSize() < kWireHighWater) {
    iovec iov[kMaxIov];
    int count = plain.gather(iov, kMaxIov);
    size_t taken = 0;
    for (int i = 0; i < count && wireSize() < kWireHighWater; ++i) {
      const auto* p = static_cast<const uint8_t*>(iov[i].iov_base);
      size_t left = iov[i].iov_len;
      while (left > 0 && wireSize() < kWireHighWater) {
        size_t n;
        if (staged == 0 && left >= kMaxRecordPlaintext) {
          n = std::min(left, kDirectStep);
          if (!writeRecords(p, n)) return false;
        } else {
          n = std::min(left, kMaxRecordPlaintext - staged);
          std::memcpy(staging + staged, p, n);
          staged += n;
          if (staged == kMaxRecordPlaintext) {
            if (!writeRecords(staging, staged)) return false;
            staged = 0;
          }
        }
        p += n;
        left -= n;
        taken += n;
      }
    }
    plain.consume(taken);
  }
  return staged == 0 || writeRecords(staging, staged);
}

bool TlsSession::shutdown() {
  if (failed_ || !established_) return false;
  if (shutdownSent_) return true;
  shutdownSent_ = true;
  ERR_clear_error();
  SSL_shutdown(ssl_);  // 0: close_notify queued, the peer's not seen; we do not wait for it
  return true;
}

std::string TlsSession::failure() {
  unsigned long code = ERR_peek_error();
  if (ERR_GET_LIB(code) == ERR_LIB_SSL && ERR_GET_REASON(code) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    long verify = SSL_get_verify_result(ssl_);
    ERR_clear_error();
    return std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify);
  }
  std::string why = takeTlsErrors("connection failed");
  return (established_ ? "TLS error: " : "TLS handshake failed: ") + why;
}

std::string_view TlsSession::alpn() const {
  const unsigned char* data = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(ssl_, &data, &length);
  return {reinterpret_cast<const char*>(data), length};
}

std::string_view TlsSession::version() const {
  return SSL_get_version(ssl_);
}

}  // namespace duplex::net
