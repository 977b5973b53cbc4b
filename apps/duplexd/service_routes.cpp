#include "service_routes.h"

#include "metrics_hub.h"
#include "net/log.h"

namespace duplexd {

void addServiceRoutes(duplex::App& app, duplex::hub::Hub& hub, LoopTopics& topics,
                      Readiness readiness, std::function<std::string()> moreMetrics) {
  app.get("/healthz", [](const duplex::Request&, duplex::HttpResponse& response) {
    response.header("Content-Type", "text/plain; charset=utf-8");
    response.body = "ok\n";
  });
  app.get("/readyz", [readiness = std::move(readiness)](const duplex::Request&,
                                                        duplex::HttpResponse& response) {
    readiness.check([later = response.later()](std::optional<std::string> reason) mutable {
      if (reason) DUPLEX_LOG(Error, "not ready: %s", reason->c_str());
      if (later.clientGone()) return;
      duplex::HttpResponse& answer = later.response();
      answer.header("Content-Type", "text/plain; charset=utf-8");
      answer.header("Cache-Control", "no-store");
      if (reason) {
        answer.status = 503;
        answer.body = "not ready: " + *reason + "\n";
      } else {
        answer.body = "ready\n";
      }
      later.send();
    });
  });
  app.get("/metrics", [&app, &hub, &topics, moreMetrics = std::move(moreMetrics)](
                          const duplex::Request&, duplex::HttpResponse& response) {
    gatherNumbers(hub, topics,
                  [&app, &moreMetrics, later = response.later()](ServerNumbers numbers) mutable {
                    if (later.clientGone()) return;
                    duplex::HttpResponse& answer = later.response();
                    answer.header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                    answer.body = renderHubMetrics(app, numbers);
                    if (moreMetrics) answer.body += moreMetrics();
                    later.send();
                  });
  });
}

}  // namespace duplexd
