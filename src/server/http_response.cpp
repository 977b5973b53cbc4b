// HttpResponse's ways of answering other than a body filled in by the handler: later, from a
// completion (LaterResponse), and a file streamed as the socket drains (FileBody).
#include <unistd.h>

#include <stdexcept>

#include "server/http_route.h"
#include "server/server_connection.h"

namespace duplex {

FileBody::~FileBody() {
  if (fd >= 0) ::close(fd);
}

LaterResponse HttpResponse::later() {
  if (!connection_) throw std::logic_error("HttpResponse::later() outside a connection");
  return connection_->answerLater();
}

HttpResponse& LaterResponse::response() {
  if (!state_) throw std::logic_error("LaterResponse: empty");
  return state_->response;
}

void LaterResponse::send() {
  if (!state_ || state_->sent) return;
  state_->sent = true;
  if (state_->connection) state_->connection->sendLater(*state_);
}

bool LaterResponse::clientGone() const {
  return !state_ || !state_->connection;
}

LaterResponse ServerConnection::answerLater() {
  std::shared_ptr<LaterResponse::State>& later = exchange().later;
  later = std::make_shared<LaterResponse::State>();
  later->connection = this;
  return LaterResponse(later);
}

void ServerConnection::sendLater(LaterResponse::State& state) {
  if (!exchange_ || exchange_->later.get() != &state) return;
  std::shared_ptr<LaterResponse::State> keep = std::move(exchange_->later);
  endExchangeIfIdle();
  keep->connection = nullptr;
  if (isClosed()) return;
  if (keep->logged) logAccess(keep->method, keep->path, keep->response.status, keep->started);
  respond(keep->response, keep->head, keep->keepAlive);
}

}  // namespace duplex
