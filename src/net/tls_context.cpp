#include "net/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <utility>

#include "net/tls_errors.h"

namespace duplex::net {
namespace {

// ALPN wire format: a length byte, then the name. WebSocket runs over HTTP/1.1 (RFC 6455 4.1);
// a browser that also offers h2 must not get it.
constexpr unsigned char kAlpnHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

// TLS 1.2 only (1.3 suites are OpenSSL's defaults, all AEAD): forward secrecy and AEAD.
constexpr const char* kTls12Ciphers = "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL";

int selectAlpn(SSL*, const unsigned char** out, unsigned char* outLength, const unsigned char* in,
               unsigned int inLength, void*) {
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outLength, kAlpnHttp11, sizeof kAlpnHttp11, in, inLength) ==
      OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  // A client that offers only other protocols still gets a handshake, without ALPN: the HTTP
  // upgrade that follows decides.
  return SSL_TLSEXT_ERR_NOACK;
}

struct CtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using CtxPtr = std::unique_ptr<SSL_CTX, CtxDeleter>;

CtxPtr newContext(const SSL_METHOD* method) {
  ERR_clear_error();
  CtxPtr ctx(SSL_CTX_new(method));
  if (!ctx) throw TlsError("cannot create a TLS context: " + takeTlsErrors());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  // Renegotiation is a TLS 1.2 DoS vector and nothing we need; compression is CRIME.
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  if (SSL_CTX_set_cipher_list(ctx.get(), kTls12Ciphers) != 1) {
    throw TlsError("cannot set the TLS 1.2 ciphers: " + takeTlsErrors());
  }
  // Idle connections give back their 16 KiB+ record buffers: most of a TLS connection's
  // memory, and most connections of a WebSocket server are idle.
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS);
  // Our BIO hands over everything received at once: read-ahead lets OpenSSL take it in one
  // call instead of a header and a body per record.
  SSL_CTX_set_read_ahead(ctx.get(), 1);
  return ctx;
}

CtxPtr newServerContext(const std::string& certFile, const std::string& keyFile) {
  CtxPtr ctx = newContext(TLS_server_method());
  SSL_CTX_set_options(ctx.get(), SSL_OP_CIPHER_SERVER_PREFERENCE);
  // No server-side session cache: it would keep up to 20,000 sessions in memory. Resumption
  // still works through stateless tickets.
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  SSL_CTX_set_alpn_select_cb(ctx.get(), selectAlpn, nullptr);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), certFile.c_str()) != 1) {
    throw TlsError("cannot load the certificate chain from " + certFile + ": " + takeTlsErrors());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), keyFile.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1) {
    // The usual mistake during a renewal: a new key beside the old certificate, or the reverse.
    unsigned long code = ERR_peek_error();
    if (ERR_GET_LIB(code) == ERR_LIB_X509 && ERR_GET_REASON(code) == X509_R_KEY_VALUES_MISMATCH) {
      ERR_clear_error();
      throw TlsError("the private key in " + keyFile + " does not match the certificate in " +
                     certFile);
    }
    throw TlsError("cannot load the private key from " + keyFile + ": " + takeTlsErrors());
  }
  return ctx;
}

}  // namespace

std::unique_ptr<TlsContext> TlsContext::forServer(std::string certFile, std::string keyFile) {
  CtxPtr ctx = newServerContext(certFile, keyFile);
  std::unique_ptr<TlsContext> context(new TlsContext(ctx.release(), true, false));
  context->certFile_ = std::move(certFile);
  context->keyFile_ = std::move(keyFile);
  return context;
}

std::unique_ptr<TlsContext> TlsContext::forClient(const TlsClientConfig& config) {
  CtxPtr ctx = newContext(TLS_client_method());
  // The host name is checked per connection (TlsSession::connect), where it is known.
  SSL_CTX_set_verify(ctx.get(), config.verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  if (config.verify) {
    bool loaded = config.caFile.empty() ? SSL_CTX_set_default_verify_paths(ctx.get()) == 1
                                        : SSL_CTX_load_verify_locations(
                                              ctx.get(), config.caFile.c_str(), nullptr) == 1;
    if (!loaded) {
      throw TlsError("cannot load trusted CAs from " +
                     (config.caFile.empty() ? std::string("the system store") : config.caFile) +
                     ": " + takeTlsErrors());
    }
  }
  // Unlike the others, this one returns 0 on success.
  if (SSL_CTX_set_alpn_protos(ctx.get(), kAlpnHttp11, sizeof kAlpnHttp11) != 0) {
    throw TlsError("cannot set ALPN: " + takeTlsErrors());
  }
  return std::unique_ptr<TlsContext>(new TlsContext(ctx.release(), false, config.verify));
}

TlsContext::~TlsContext() {
  SSL_CTX_free(ctx_);
}

void TlsContext::reload() {
  reload(certFile_, keyFile_);
}

void TlsContext::reload(std::string certFile, std::string keyFile) {
  if (!server_) throw TlsError("only a server context has a certificate to reload");
  CtxPtr fresh = newServerContext(certFile, keyFile);
  // Dropping our reference frees the old context once its last connection has ended.
  SSL_CTX_free(ctx_);
  ctx_ = fresh.release();
  certFile_ = std::move(certFile);
  keyFile_ = std::move(keyFile);
}

void TlsContext::swap(TlsContext& other) noexcept {
  std::swap(ctx_, other.ctx_);
  std::swap(server_, other.server_);
  std::swap(verify_, other.verify_);
  certFile_.swap(other.certFile_);
  keyFile_.swap(other.keyFile_);
}

}  // namespace duplex::net
