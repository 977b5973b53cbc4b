#pragma once
// What every TLS connection of one listener (or of one client) shares: an OpenSSL SSL_CTX with
// the certificate and key, the trusted CAs, the versions (1.2 and 1.3 only), ciphers and ALPN.
// OpenSSL's headers stay out of this one: sockets and the server include it.
#include <memory>
#include <stdexcept>
#include <string>

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace duplex::net {

// A context could not be built; the message names the file and OpenSSL's reason.
class TlsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct TlsClientConfig {
  // Check the server's chain and its name. Turning this off accepts any certificate: for tests
  // and for explicitly trusted networks only.
  bool verify = true;
  // PEM bundle of trusted CAs; empty means the system's store.
  std::string caFile;
};

class TlsContext {
 public:
  // Certificate chain (leaf first) and private key, both PEM. Throws TlsError.
  static std::unique_ptr<TlsContext> forServer(std::string certFile, std::string keyFile);
  // Throws TlsError when the CA file cannot be read.
  static std::unique_ptr<TlsContext> forClient(const TlsClientConfig& config);

  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // Server: reads the certificate and key again (after a renewal replaced the files) or from
  // new paths. Connections accepted from now on use them; open ones keep the SSL_CTX they
  // started with, which each SSL holds a reference on. Throws TlsError and keeps the current
  // certificate when the new files are unusable.
  void reload();
  void reload(std::string certFile, std::string keyFile);
  // Exchanges the contents (SSL_CTX and files) with `other`, in place: for reloading several
  // contexts all or nothing (build them all, then swap them all).
  void swap(TlsContext& other) noexcept;

  bool isServer() const { return server_; }
  bool verifiesPeer() const { return verify_; }
  const std::string& certFile() const { return certFile_; }
  const std::string& keyFile() const { return keyFile_; }
  // For TlsSession: the context new connections start with.
  ssl_ctx_st* native() const { return ctx_; }

 private:
  TlsContext(ssl_ctx_st* ctx, bool server, bool verify)
      : ctx_(ctx), server_(server), verify_(verify) {}

  ssl_ctx_st* ctx_;
  bool server_;
  bool verify_;
  std::string certFile_;
  std::string keyFile_;
};

}  // namespace duplex::net
