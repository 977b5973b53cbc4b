// files(root) behind a "/static/*" route: Content-Type, index.html, 404, every way out of root
// refused with 403, HEAD, 405, and keep-alive.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>

#include "server/http_route.h"
#include "server_fixture.h"
#include "temp_dir.h"

namespace duplex {
namespace {

namespace fs = std::filesystem;

void writeFile(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// root/ holds the site; outside/ is a sibling that no request may reach.
class StaticFiles : public test::ServerFixture {
 protected:
  test::TempDir dir;
  fs::path root = dir.path() / "root";
  fs::path outside = dir.path() / "outside";
  uint16_t port = 0;

  void SetUp() override {
    writeFile(root / "index.html", "<h1>home</h1>");
    writeFile(root / "app.js", "console.log(1);");
    writeFile(root / "style.css", "body{}");
    writeFile(root / "data.json", "{\"a\":1}");
    writeFile(root / "pic.png", std::string("\x89PNG\r\n", 6));
    writeFile(root / "blob.bin", "bytes");
    writeFile(root / "hello world.txt", "spaced");
    writeFile(root / "sub" / "index.html", "<h1>sub</h1>");
    writeFile(root / "sub" / "notes.txt", "notes");
    writeFile(root / "empty" / "readme.txt", "no index here");
    writeFile(outside / "secret.txt", "secret");
    fs::create_symlink(outside / "secret.txt", root / "escape.txt");
    fs::create_symlink(outside, root / "elsewhere");
    fs::create_symlink(root / "app.js", root / "alias.js");
    makeApp().get("/static/*", files(root));
    port = listen();
  }

  test::HttpReply get(const std::string& target, const std::string& method = "GET") {
    test::RawPeer peer(port);
    test::HttpReply reply;
    EXPECT_TRUE(exchange(peer, test::getRequest(target, method), reply, method == "HEAD"))
        << target;
    return reply;
  }
};

struct FileCase {
  const char* name;
  const char* target;
  int status;
  const char* contentType;  // nullptr: not checked
  const char* body;         // nullptr: not checked
};
// Failure messages name the row rather than dumping its bytes.
void PrintTo(const FileCase& c, std::ostream* os) {
  *os << c.name;
}

class StaticFilesTable : public StaticFiles, public ::testing::WithParamInterface<FileCase> {};

TEST_P(StaticFilesTable, Serves) {
  const FileCase& c = GetParam();
  test::HttpReply reply = get(c.target);
  EXPECT_EQ(reply.status, c.status) << c.target;
  if (c.contentType) {
    EXPECT_EQ(reply.header("Content-Type"), c.contentType) << c.target;
  }
  if (c.body) {
    EXPECT_EQ(reply.body, c.body) << c.target;
  }
  if (c.status == 403) {
    EXPECT_EQ(reply.body.find("secret"), std::string::npos);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, StaticFilesTable,
    ::testing::Values(
        FileCase{"html", "/static/index.html", 200, "text/html; charset=utf-8", "<h1>home</h1>"},
        FileCase{"js", "/static/app.js", 200, "text/javascript; charset=utf-8", "console.log(1);"},
        FileCase{"css", "/static/style.css", 200, "text/css; charset=utf-8", "body{}"},
        FileCase{"json", "/static/data.json", 200, "application/json", "{\"a\":1}"},
        FileCase{"png", "/static/pic.png", 200, "image/png", nullptr},
        FileCase{"unknown_extension", "/static/blob.bin", 200, "application/octet-stream", "bytes"},
        FileCase{"percent_encoded_name", "/static/hello%20world.txt", 200,
                 "text/plain; charset=utf-8", "spaced"},
        FileCase{"root_directory", "/static/", 200, "text/html; charset=utf-8", "<h1>home</h1>"},
        FileCase{"sub_directory", "/static/sub/", 200, "text/html; charset=utf-8", "<h1>sub</h1>"},
        FileCase{"sub_directory_no_slash", "/static/sub", 200, "text/html; charset=utf-8",
                 "<h1>sub</h1>"},
        FileCase{"nested_file", "/static/sub/notes.txt", 200, "text/plain; charset=utf-8", "notes"},
        FileCase{"symlink_inside_root", "/static/alias.js", 200, "text/javascript; charset=utf-8",
                 "console.log(1);"},
        FileCase{"missing", "/static/missing.txt", 404, nullptr, nullptr},
        FileCase{"directory_without_index", "/static/empty/", 404, nullptr, nullptr},
        FileCase{"dotdot", "/static/../outside/secret.txt", 403, nullptr, nullptr},
        FileCase{"dotdot_deeper", "/static/sub/../../outside/secret.txt", 403, nullptr, nullptr},
        FileCase{"dotdot_encoded", "/static/%2e%2e/outside/secret.txt", 403, nullptr, nullptr},
        FileCase{"dotdot_encoded_upper", "/static/%2E%2E/outside/secret.txt", 403, nullptr,
                 nullptr},
        FileCase{"dotdot_half_encoded", "/static/.%2e/outside/secret.txt", 403, nullptr, nullptr},
        FileCase{"slash_encoded", "/static/..%2foutside%2fsecret.txt", 403, nullptr, nullptr},
        FileCase{"backslash_encoded", "/static/..%5coutside%5csecret.txt", 403, nullptr, nullptr},
        FileCase{"absolute_encoded", "/static/%2fetc%2fpasswd", 403, nullptr, nullptr},
        FileCase{"nul_encoded", "/static/app.js%00.txt", 403, nullptr, nullptr},
        FileCase{"symlink_to_file_outside", "/static/escape.txt", 403, nullptr, nullptr},
        FileCase{"symlink_to_dir_outside", "/static/elsewhere/secret.txt", 403, nullptr, nullptr}),
    test::CaseName());

TEST_F(StaticFiles, HeadHasContentLengthButNoBody) {
  // HEAD then GET on one connection: if HEAD's answer carried a body, the next answer would not
  // start where the head ends.
  test::RawPeer peer(port);
  test::HttpReply head, next;
  ASSERT_TRUE(peer.send(test::getRequest("/static/app.js", "HEAD")));
  ASSERT_TRUE(readReply(peer, head, true));
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Content-Length"), std::to_string(std::string("console.log(1);").size()));
  EXPECT_EQ(head.header("Content-Type"), "text/javascript; charset=utf-8");
  ASSERT_TRUE(exchange(peer, test::getRequest("/static/style.css"), next));
  EXPECT_EQ(next.status, 200);
  EXPECT_EQ(next.body, "body{}");
}

TEST_F(StaticFiles, PostIs405WithAllow) {
  test::RawPeer peer(port);
  test::HttpReply reply;
  ASSERT_TRUE(exchange(
      peer, "POST /static/app.js HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", reply));
  EXPECT_EQ(reply.status, 405);
  std::string allow = reply.header("Allow");
  EXPECT_NE(allow.find("GET"), std::string::npos) << allow;
  EXPECT_NE(allow.find("HEAD"), std::string::npos) << allow;
}

TEST_F(StaticFiles, KeepAliveServesTwoRequestsOnOneConnection) {
  test::RawPeer peer(port);
  test::HttpReply first, second;
  ASSERT_TRUE(exchange(peer, test::getRequest("/static/app.js"), first));
  EXPECT_EQ(first.status, 200);
  test::runOnce(loop);
  peer.pump();
  EXPECT_FALSE(peer.ended()) << "closed after a keep-alive response";
  ASSERT_TRUE(exchange(peer, test::getRequest("/static/style.css"), second));
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body, "body{}");
}

TEST_F(StaticFiles, PipelinedRequestsAreAnsweredInOrder) {
  test::RawPeer peer(port);
  ASSERT_TRUE(peer.send(test::getRequest("/static/app.js") + test::getRequest("/static/missing") +
                        test::getRequest("/static/style.css")));
  std::vector<test::HttpReply> replies;
  ASSERT_TRUE(test::runUntil(loop, [&] {
    peer.pump();
    test::HttpReply r;
    while (test::takeResponse(peer.received(), r)) replies.push_back(r);
    return replies.size() == 3 || peer.ended();
  }));
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies[0].body, "console.log(1);");
  EXPECT_EQ(replies[1].status, 404);
  EXPECT_EQ(replies[2].body, "body{}");
}

TEST_F(StaticFiles, ConnectionCloseEndsTheConnectionAfterTheAnswer) {
  test::RawPeer peer(port);
  test::HttpReply reply;
  ASSERT_TRUE(
      exchange(peer, test::getRequest("/static/app.js", "GET", "Connection: close\r\n"), reply));
  EXPECT_EQ(reply.status, 200);
  ASSERT_TRUE(test::runUntil(loop, [&] {
    peer.pump();
    return peer.ended();
  }));
  EXPECT_EQ(peer.endError(), 0);
}

// Bigger than what is cached: streamed in pieces as the socket drains.
std::string largeContent() {
  std::string text;
  for (int i = 0; text.size() < (3 << 20) + 17; ++i) text += std::to_string(i) + ",";
  return text;
}

TEST_F(StaticFiles, ALargeFileIsStreamedWholeAndKeepAliveGoesOn) {
  const std::string content = largeContent();
  writeFile(root / "large.txt", content);
  test::RawPeer peer(port);
  test::HttpReply reply, head, next;
  ASSERT_TRUE(exchange(peer, test::getRequest("/static/large.txt"), reply));
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.header("Content-Length"), std::to_string(content.size()));
  EXPECT_TRUE(reply.body == content) << "body of " << reply.body.size() << " bytes differs";
  ASSERT_TRUE(exchange(peer, test::getRequest("/static/large.txt", "HEAD"), head, true));
  EXPECT_EQ(head.header("Content-Length"), std::to_string(content.size()));
  ASSERT_TRUE(exchange(peer, test::getRequest("/static/style.css"), next));
  EXPECT_EQ(next.body, "body{}");
}

TEST_F(StaticFiles, PipelinedRequestsBehindAStreamedFileWaitForIt) {
  const std::string content = largeContent();
  writeFile(root / "large.txt", content);
  test::RawPeer peer(port);
  ASSERT_TRUE(
      peer.send(test::getRequest("/static/large.txt") + test::getRequest("/static/app.js")));
  std::vector<test::HttpReply> replies;
  ASSERT_TRUE(test::runUntil(loop, [&] {
    peer.pump();
    test::HttpReply r;
    while (test::takeResponse(peer.received(), r)) replies.push_back(r);
    return replies.size() == 2 || peer.ended();
  }));
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_TRUE(replies[0].body == content);
  EXPECT_EQ(replies[1].body, "console.log(1);");
}

TEST_F(StaticFiles, ACachedFileChangedOnDiskIsServedAfresh) {
  EXPECT_EQ(get("/static/sub/notes.txt").body, "notes");
  EXPECT_EQ(get("/static/sub/notes.txt").body, "notes");  // from the cache
  writeFile(root / "sub" / "notes.txt", "notes, longer now");
  EXPECT_EQ(get("/static/sub/notes.txt").body, "notes, longer now");
  fs::remove(root / "sub" / "notes.txt");
  EXPECT_EQ(get("/static/sub/notes.txt").status, 404);
}

TEST(ContentType, ByExtension) {
  EXPECT_EQ(contentTypeFor("a/b/index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(contentTypeFor("x.mjs"), "text/javascript; charset=utf-8");
  EXPECT_EQ(contentTypeFor("x.svg"), "image/svg+xml");
  EXPECT_EQ(contentTypeFor("x.wasm"), "application/wasm");
  EXPECT_EQ(contentTypeFor("x.woff2"), "font/woff2");
  EXPECT_EQ(contentTypeFor("Makefile"), "application/octet-stream");
  EXPECT_EQ(contentTypeFor("x.html.bak"), "application/octet-stream");
}

}  // namespace
}  // namespace duplex
