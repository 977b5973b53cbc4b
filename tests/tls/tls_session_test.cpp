// TlsSession and TlsContext without sockets: a client and a server session paired in memory,
// each one's wire carried to the other by hand. Shows the batching of records, the high-water
// mark, verification errors and how failures read.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>

#include "net/loop.h"
#include "net/out_queue.h"
#include "net/tls_context.h"
#include "net/tls_session.h"
#include "test_pki.h"

namespace duplex::net {
namespace {

using test::pkiFile;
using Result = TlsSession::Result;

std::string randomBytes(size_t size, unsigned seed) {
  std::mt19937 random(seed);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(random());
  return bytes;
}

// TLS records in `ciphertext`: RFC 8446 5.1, a 5-byte header whose last two bytes are the length.
size_t countRecords(const std::string& ciphertext) {
  size_t count = 0;
  size_t pos = 0;
  while (pos + 5 <= ciphertext.size()) {
    size_t length = (static_cast<uint8_t>(ciphertext[pos + 3]) << 8) |
                    static_cast<uint8_t>(ciphertext[pos + 4]);
    pos += 5 + length;
    ++count;
  }
  EXPECT_EQ(pos, ciphertext.size()) << "the wire does not end on a record boundary";
  return count;
}

class TlsPair : public ::testing::Test {
 protected:
  void start(const std::string& cert = "server", std::string serverName = "localhost",
             TlsClientConfig config = {true, pkiFile("ca.pem")}) {
    serverContext_ = TlsContext::forServer(pkiFile(cert + ".pem"), pkiFile(cert + ".key"));
    clientContext_ = TlsContext::forClient(config);
    server_ = TlsSession::accept(*serverContext_, loop_);
    client_ = TlsSession::connect(*clientContext_, loop_, serverName);
  }

  // Everything `session` has on its wire, taken off it.
  std::string takeWire(TlsSession& session) {
    std::string bytes;
    OutQueue*& wire = session.wire();
    if (!wire) return bytes;
    while (!wire->empty()) {
      iovec iov[64];
      int count = wire->gather(iov, 64);
      size_t total = 0;
      for (int i = 0; i < count; ++i) {
        bytes.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
        total += iov[i].iov_len;
      }
      wire->consume(total);
    }
    loop_.releaseQueue(wire);
    wire = nullptr;
    return bytes;
  }

  // Carries the handshake flights until both sides are done; false if either failed.
  bool handshake() {
    std::string toServer, toClient;  // fed input must outlive the next handshake() call
    for (int flight = 0; flight < 8; ++flight) {
      if (client_->handshake() == Result::Failed) return false;
      toServer = takeWire(*client_);
      server_->feed(asBytes(toServer));
      if (server_->handshake() == Result::Failed) return false;
      toClient = takeWire(*server_);
      if (client_->established() && server_->established()) {
        return read(*client_, toClient) == Result::WantInput;  // TLS 1.3 session tickets
      }
      client_->feed(asBytes(toClient));
    }
    return false;
  }

  Result read(TlsSession& session, const std::string& ciphertext, std::string* plain = nullptr) {
    session.feed(asBytes(ciphertext));
    auto buffer = std::make_unique<uint8_t[]>(64 * 1024);
    for (;;) {
      size_t produced = 0;
      Result result = session.read(std::span<uint8_t>(buffer.get(), 64 * 1024), produced);
      if (plain) plain->append(reinterpret_cast<const char*>(buffer.get()), produced);
      if (result != Result::Progress) return result;
    }
  }

  static std::span<const uint8_t> asBytes(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
  }

  Loop loop_;
  std::unique_ptr<TlsContext> serverContext_;
  std::unique_ptr<TlsContext> clientContext_;
  std::unique_ptr<TlsSession> server_;
  std::unique_ptr<TlsSession> client_;
};

TEST_F(TlsPair, HandshakeAgreesOnTls13AndHttp11) {
  start();
  ASSERT_TRUE(handshake()) << client_->failure() << " / " << server_->failure();
  EXPECT_EQ(server_->version(), "TLSv1.3");
  EXPECT_EQ(server_->alpn(), "http/1.1");
  EXPECT_EQ(client_->alpn(), "http/1.1");
}

TEST_F(TlsPair, SmallFramesOfOneIterationShareRecords) {
  start();
  ASSERT_TRUE(handshake());
  // 1000 frames of 22 bytes in 1000 separate segments (shared chunks, as a broadcast queues
  // them): encrypted one record per frame, that would be 1000 records and 22 KB of overhead.
  Chunk* shared = loop_.buffers().acquire(22 * 1000);
  std::string expected = randomBytes(22 * 1000, 1);
  std::memcpy(shared->bytes(), expected.data(), expected.size());
  OutQueue plain(loop_.buffers());
  for (uint32_t i = 0; i < 1000; ++i) plain.appendShared(shared, i * 22, 22);
  loop_.buffers().release(shared);

  ASSERT_TRUE(server_->encrypt(plain));
  EXPECT_TRUE(plain.empty());
  std::string ciphertext = takeWire(*server_);
  EXPECT_EQ(countRecords(ciphertext), 2u);  // 22,000 bytes: one full record and the rest
  std::string received;
  EXPECT_EQ(read(*client_, ciphertext, &received), Result::WantInput);
  EXPECT_EQ(received, expected);
}

TEST_F(TlsPair, EncryptionStopsAtTheHighWaterMarkAndResumes) {
  start();
  ASSERT_TRUE(handshake());
  std::string expected = randomBytes(8 << 20, 2);
  OutQueue plain(loop_.buffers());
  std::memcpy(plain.append(expected.size()), expected.data(), expected.size());

  ASSERT_TRUE(server_->encrypt(plain));
  // Under backpressure the rest stays plaintext (shared chunks stay shared).
  EXPECT_GE(server_->wireSize(), TlsSession::kWireHighWater);
  EXPECT_LE(server_->wireSize(), TlsSession::kWireHighWater + 80 * 1024);
  EXPECT_GT(plain.size(), expected.size() - TlsSession::kWireHighWater - 80 * 1024);

  std::string received;
  while (!plain.empty() || server_->wireSize() > 0) {
    EXPECT_EQ(read(*client_, takeWire(*server_), &received), Result::WantInput);
    ASSERT_TRUE(server_->encrypt(plain));
  }
  EXPECT_EQ(received.size(), expected.size());
  EXPECT_TRUE(received == expected);
}

TEST_F(TlsPair, RecordsSplitAcrossReadsAreReassembled) {
  start();
  ASSERT_TRUE(handshake());
  std::string expected = randomBytes(100000, 3);
  OutQueue plain(loop_.buffers());
  plain.appendCopy(reinterpret_cast<const uint8_t*>(expected.data()), expected.size());
  ASSERT_TRUE(client_->encrypt(plain));
  std::string ciphertext = takeWire(*client_);
  std::string received;
  for (size_t pos = 0; pos < ciphertext.size(); pos += 777) {
    EXPECT_EQ(read(*server_, ciphertext.substr(pos, 777), &received), Result::WantInput);
  }
  EXPECT_TRUE(received == expected);
}

TEST_F(TlsPair, CloseNotifyReadsAsPeerClosed) {
  start();
  ASSERT_TRUE(handshake());
  EXPECT_TRUE(server_->shutdown());
  EXPECT_EQ(read(*client_, takeWire(*server_)), Result::PeerClosed);
}

TEST_F(TlsPair, WrongHostNameIsRefused) {
  start("server", "wrong.example");
  EXPECT_FALSE(handshake());
  EXPECT_EQ(client_->failure(), "certificate verify failed: hostname mismatch");
}

TEST_F(TlsPair, CertificateWithoutTheAddressIsRefused) {
  start("dns-only", "127.0.0.1");
  EXPECT_FALSE(handshake());
  EXPECT_EQ(client_->failure(), "certificate verify failed: IP address mismatch");
}

TEST_F(TlsPair, AddressInTheCertificateIsAccepted) {
  start("server", "127.0.0.1");
  EXPECT_TRUE(handshake()) << client_->failure();
}

TEST_F(TlsPair, UntrustedIssuerIsRefused) {
  start("rogue");
  EXPECT_FALSE(handshake());
  EXPECT_EQ(client_->failure(),
            "certificate verify failed: unable to get local issuer certificate");
}

TEST_F(TlsPair, VerificationOffAcceptsAnyCertificate) {
  start("rogue", "wrong.example", {false, ""});
  EXPECT_TRUE(handshake()) << client_->failure();
}

TEST_F(TlsPair, PlainHttpToTheServerFailsTheHandshake) {
  start();
  std::string request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  server_->feed(asBytes(request));
  EXPECT_EQ(server_->handshake(), Result::Failed);
  EXPECT_EQ(server_->failure(), "TLS handshake failed: http request");
  // And it stays failed.
  EXPECT_EQ(server_->handshake(), Result::Failed);
}

TEST_F(TlsPair, TamperedRecordFailsTheSession) {
  start();
  ASSERT_TRUE(handshake());
  OutQueue plain(loop_.buffers());
  plain.appendCopy(reinterpret_cast<const uint8_t*>("hello"), 5);
  ASSERT_TRUE(client_->encrypt(plain));
  std::string ciphertext = takeWire(*client_);
  ciphertext[ciphertext.size() - 3] ^= 1;
  EXPECT_EQ(read(*server_, ciphertext), Result::Failed);
  EXPECT_EQ(server_->failure(), "TLS error: decryption failed or bad record mac");
}

TEST(TlsContext, MissingCertificateNamesTheFile) {
  try {
    TlsContext::forServer("/nonexistent/cert.pem", pkiFile("server.key"));
    FAIL() << "no exception";
  } catch (const TlsError& e) {
    EXPECT_STREQ(e.what(),
                 "cannot load the certificate chain from /nonexistent/cert.pem: No such file or "
                 "directory");
  }
}

TEST(TlsContext, KeyOfAnotherCertificateIsRefused) {
  try {
    TlsContext::forServer(pkiFile("server.pem"), pkiFile("renewed.key"));
    FAIL() << "no exception";
  } catch (const TlsError& e) {
    EXPECT_NE(std::string(e.what()).find("does not match the certificate"), std::string::npos)
        << e.what();
  }
}

TEST(TlsContext, NotPemIsRefused) {
  EXPECT_THROW(TlsContext::forServer(pkiFile("server.ext"), pkiFile("server.key")), TlsError);
  EXPECT_THROW(TlsContext::forServer(pkiFile("server.pem"), pkiFile("server.ext")), TlsError);
}

TEST(TlsContext, FailedReloadKeepsTheCurrentCertificate) {
  auto context = TlsContext::forServer(pkiFile("server.pem"), pkiFile("server.key"));
  void* before = context->native();
  EXPECT_THROW(context->reload(pkiFile("renewed.pem"), pkiFile("server.key")), TlsError);
  EXPECT_EQ(context->native(), before);
  EXPECT_EQ(context->certFile(), pkiFile("server.pem"));
  context->reload(pkiFile("renewed.pem"), pkiFile("renewed.key"));
  EXPECT_NE(context->native(), before);
  EXPECT_EQ(context->certFile(), pkiFile("renewed.pem"));
}

TEST(TlsContext, OpenSessionsKeepTheContextTheyStartedWith) {
  Loop loop;
  auto context = TlsContext::forServer(pkiFile("server.pem"), pkiFile("server.key"));
  auto session = TlsSession::accept(*context, loop);
  context->reload(pkiFile("renewed.pem"), pkiFile("renewed.key"));
  context.reset();  // the SSL holds its own reference on the old SSL_CTX (ASan would tell)
  std::string hello = "GET / HTTP/1.1\r\n\r\n";
  session->feed({reinterpret_cast<const uint8_t*>(hello.data()), hello.size()});
  EXPECT_EQ(session->handshake(), TlsSession::Result::Failed);
}

}  // namespace
}  // namespace duplex::net
