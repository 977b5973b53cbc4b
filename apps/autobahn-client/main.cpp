// duplex-autobahn-client: our client as the Autobahn|Testsuite fuzzing server expects a client
// under test to behave (`wstest -m fuzzingserver`):
//   1. GET URL/getCaseCount: the server sends the number of cases as a text message, and closes;
//   2. for N in 1..count: URL/runCase?case=N&agent=AGENT, echoing every message, text or
//      binary, until the server closes (the suite judges what it saw);
//   3. URL/updateReports?agent=AGENT: the server writes its reports, and closes.
// permessage-deflate is offered (server context takeover allowed), so the compression cases
// run. Exit status 0 when the count was read and the reports were updated; a case whose
// connection failed is reported on stderr and does not stop the run (the suite's report says
// what went wrong in it).
//
//   duplex-autobahn-client ws://127.0.0.1:9001 duplex [--no-deflate] [--cases N]
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "client/client.h"

namespace {

constexpr const char* kName = "duplex-autobahn-client";

[[noreturn]] void usage(int status) {
  std::fprintf(status ? stderr : stdout,
               "usage: %s URL AGENT [--no-deflate] [--cases N]\n"
               "  URL      the fuzzing server, e.g. ws://127.0.0.1:9001\n"
               "  AGENT    the name the reports list this client under\n"
               "  --no-deflate  offer no permessage-deflate\n"
               "  --cases N     run only cases 1..N (default: all the server has)\n",
               kName);
  std::exit(status);
}

// RFC 3986 unreserved characters pass; everything else is percent-encoded.
std::string queryEscape(std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    bool unreserved = (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    }
  }
  return out;
}

// Runs the three steps on one loop, one connection at a time: each connection's end starts the
// next (deferred to the end of the loop iteration, out of the closing connection's handler).
class Run {
 public:
  Run(std::string base, std::string agent, bool deflate, long maxCases)
      : base_(std::move(base)),
        agent_(queryEscape(agent)),
        deflate_(deflate),
        maxCases_(maxCases) {}

  int go() {
    if (!getCaseCount()) return 2;
    loop_.run();
    if (!countRead_) {
      std::fprintf(stderr, "%s: FAILED: no case count from %s/getCaseCount\n", kName,
                   base_.c_str());
      return 1;
    }
    if (!reportsUpdated_) {
      std::fprintf(stderr, "%s: FAILED: the reports were not updated\n", kName);
      return 1;
    }
    std::printf("%s: %ld cases run (%ld failed to connect); reports updated for agent %s\n", kName,
                caseCount_, casesFailed_, agent_.c_str());
    return 0;
  }

 private:
  duplex::ClientBehavior behaviorFor(std::function<void(bool opened)> done) {
    duplex::ClientBehavior behavior;
    behavior.compression.enabled = deflate_;
    // Let the server keep its compression context between messages: the suite's compression
    // cases offer and test both.
    behavior.compression.serverNoContextTakeover = false;
    // The suite's largest messages are 16 MiB (cases 9.x).
    behavior.maxMessageSize = 64 << 20;
    behavior.close = [this, done](duplex::WebSocket&, uint16_t, std::string_view) {
      loop_.defer([done] { done(true); });
    };
    behavior.error = [this, done](std::string_view error) {
      std::fprintf(stderr, "%s: %s\n", kName, std::string(error).c_str());
      loop_.defer([done] { done(false); });
    };
    return behavior;
  }

  bool open(const std::string& url, duplex::ClientBehavior behavior) {
    try {
      duplex::connect(loop_, url, std::move(behavior));
      return true;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: %s: %s\n", kName, url.c_str(), e.what());
      loop_.stop();
      return false;
    }
  }

  bool getCaseCount() {
    auto behavior = behaviorFor([this](bool) {
      if (!countRead_) {
        loop_.stop();
        return;
      }
      runCase(1);
    });
    behavior.message = [this](duplex::WebSocket&, std::string_view data, duplex::Opcode) {
      std::string text(data);
      char* end = nullptr;
      long count = std::strtol(text.c_str(), &end, 10);
      if (end == text.c_str() || count < 0) {
        std::fprintf(stderr, "%s: case count is not a number: %s\n", kName, text.c_str());
        return;
      }
      caseCount_ = maxCases_ >= 0 && maxCases_ < count ? maxCases_ : count;
      countRead_ = true;
    };
    return open(base_ + "/getCaseCount", std::move(behavior));
  }

  void runCase(long n) {
    if (n > caseCount_) {
      updateReports();
      return;
    }
    auto behavior = behaviorFor([this, n](bool opened) {
      if (!opened) ++casesFailed_;
      runCase(n + 1);
    });
    // The echo: what came in goes back as it came, text as text, binary as binary.
    behavior.message = [](duplex::WebSocket& ws, std::string_view data, duplex::Opcode opcode) {
      ws.send(data, opcode);
    };
    open(base_ + "/runCase?case=" + std::to_string(n) + "&agent=" + agent_, std::move(behavior));
  }

  void updateReports() {
    auto behavior = behaviorFor([this](bool opened) {
      reportsUpdated_ = opened;
      loop_.stop();
    });
    open(base_ + "/updateReports?agent=" + agent_, std::move(behavior));
  }

  duplex::net::Loop loop_;
  std::string base_;
  std::string agent_;  // escaped for the query
  bool deflate_;
  long maxCases_;
  long caseCount_ = 0;
  long casesFailed_ = 0;
  bool countRead_ = false;
  bool reportsUpdated_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  std::string url;
  std::string agent;
  bool deflate = true;
  long maxCases = -1;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      usage(0);
    } else if (arg == "--no-deflate") {
      deflate = false;
    } else if (arg == "--cases" && i + 1 < argc) {
      char* end = nullptr;
      maxCases = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || maxCases < 0) usage(2);
    } else if (!arg.starts_with("--") && url.empty()) {
      url = arg;
    } else if (!arg.starts_with("--") && agent.empty()) {
      agent = arg;
    } else {
      std::fprintf(stderr, "%s: unexpected argument %s\n", kName, argv[i]);
      usage(2);
    }
  }
  if (url.empty() || agent.empty()) usage(2);
  while (url.ends_with('/')) url.pop_back();
  return Run(std::move(url), std::move(agent), deflate, maxCases).go();
}
