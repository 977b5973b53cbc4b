#include "throw_room.h"

#include <algorithm>
#include <chrono>

#include "json_writer.h"
#include "throw_rules.h"

namespace duplexd {
namespace {

// What each connection carries in ws.data(): its throw budget (token bucket).
struct Budget {
  double tokens;
  uint64_t lastMs;
};

int64_t wallClockMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// {"seq":1,"kind":"tomato","text":"","at":1732470000000}; a live throw also starts with
// "type":"throw".
void appendItem(std::string& out, uint64_t seq, std::string_view kind, std::string_view text,
                int64_t atMs, bool live = false) {
  out += live ? R"({"type":"throw","seq":)" : R"({"seq":)";
  appendJsonNumber(out, static_cast<int64_t>(seq));
  out += R"(,"kind":)";
  appendJsonString(out, kind);
  out += R"(,"text":)";
  appendJsonString(out, text);
  out += R"(,"at":)";
  appendJsonNumber(out, atMs);
  out += '}';
}

}  // namespace

ThrowRoom::ThrowRoom(duplex::net::Loop& loop, duplex::pubsub::Topics& topics,
                     duplex::hub::HistoryStore& store, RoomOptions options)
    : loop_(loop), topics_(topics), store_(store), options_(std::move(options)) {}

void ThrowRoom::sendDirect(duplex::WebSocket& ws, std::string_view data) {
  if (ws.send(data)) {
    ++stats_.directOut;
    stats_.directBytesOut += data.size();
  }
}

void ThrowRoom::reject(duplex::WebSocket& ws, std::string_view code, std::string_view message) {
  ++stats_.rejected;
  sendDirect(ws, errorMessage(code, message));
}

void ThrowRoom::join(duplex::WebSocket& ws, uint64_t since) {
  ws.data() = Budget{options_.burst, loop_.nowMs()};
  // History first, in chunks; everything runs on this loop's thread, and throws are published
  // only after they are stored, so subscribing right after reading history leaves no gap (a
  // throw stored later is published to us) and no duplicate (a throw published earlier is in
  // the history we read).
  uint64_t after = since;
  bool first = true;
  for (;;) {
    scratch_ = R"({"type":"history","epoch":)";
    appendJsonString(scratch_, store_.epoch());
    scratch_ += R"(,"items":[)";
    size_t count = 0;
    auto visited = store_.forEachSince(
        after, options_.historyChunk, [&](const duplex::hub::HistoryItemView& item) {
          if (count++) scratch_ += ',';
          appendItem(scratch_, item.seq, item.kind, item.text, item.atMs);
          after = item.seq;
        });
    if (!visited.ok()) {
      reject(ws, "unavailable", "history cannot be read: " + visited.error().message);
      break;
    }
    scratch_ += "]}";
    // Always one history message, even an empty one: it carries the epoch.
    if (count || first) sendDirect(ws, scratch_);
    first = false;
    if (count < options_.historyChunk) break;
  }
  topics_.subscribe(ws, kTopic);
}

bool ThrowRoom::takeToken(duplex::WebSocket& ws) {
  auto* budget = std::any_cast<Budget>(&ws.data());
  if (!budget) return false;
  uint64_t now = loop_.nowMs();
  budget->tokens = std::min(
      options_.burst, budget->tokens + (now - budget->lastMs) * options_.throwsPerSecond / 1000.0);
  budget->lastMs = now;
  if (budget->tokens < 1) return false;
  budget->tokens -= 1;
  return true;
}

void ThrowRoom::message(duplex::WebSocket& ws, std::string_view data, duplex::Opcode opcode) {
  ++stats_.messagesIn;
  stats_.bytesIn += data.size();
  if (data.size() > options_.maxMessageBytes) {
    return reject(ws, "too_large",
                  "a throw is at most " + std::to_string(options_.maxMessageBytes) + " bytes");
  }
  if (opcode != duplex::Opcode::Text) return reject(ws, "bad_json", "send JSON text, not binary");
  simdjson::dom::element root;
  if (parser_.parse(data.data(), data.size()).get(root) != simdjson::SUCCESS || !root.is_object()) {
    return reject(ws, "bad_json", "a throw is a JSON object");
  }
  std::string_view type;
  if (root["type"].get(type) != simdjson::SUCCESS || type != "throw") {
    return reject(ws, "bad_json", R"(expected "type":"throw")");
  }
  if (auto broken = checkThrowFields(root.get_object().value_unsafe())) {
    return reject(ws, broken->field == ThrowProblem::Field::Kind ? "bad_kind" : "bad_text",
                  broken->message);
  }
  // Both checked above: a string in the kinds, and a string or absent.
  std::string_view kind = root["kind"].get_string().value_unsafe();
  std::string_view text;
  if (root["text"].get(text) != simdjson::SUCCESS) text = {};
  if (!takeToken(ws)) return reject(ws, "rate_limited", "too many throws: slow down");

  pending_.push_back({&ws, std::string(kind), std::string(text), wallClockMs()});
  if (!commitScheduled_) {
    commitScheduled_ = true;
    loop_.defer([this] { commit(); });
  }
}

void ThrowRoom::leave(duplex::WebSocket& ws) {
  for (Pending& p : pending_) {
    if (p.thrower == &ws) p.thrower = nullptr;  // still stored and broadcast; nobody to tell
  }
}

void ThrowRoom::commit() {
  commitScheduled_ = false;
  if (pending_.empty()) return;
  batch_.clear();
  for (const Pending& p : pending_) batch_.push_back({p.kind, p.text, p.atMs});
  auto stored = store_.append(batch_);
  if (!stored.ok()) {
    // Nothing of the batch was stored, so nothing is broadcast; every thrower hears why.
    for (const Pending& p : pending_) {
      if (p.thrower) reject(*p.thrower, "unavailable", "the throw could not be stored; try again");
    }
    pending_.clear();
    return;
  }
  duplex::hub::SeqRange seqs = stored.value();
  for (size_t i = 0; i < pending_.size(); ++i) {
    const Pending& p = pending_[i];
    scratch_.clear();
    appendItem(scratch_, seqs[i], p.kind, p.text, p.atMs, true);
    topics_.publish(kTopic, scratch_);
    ++stats_.throws;
  }
  pending_.clear();
  scheduleTrim();
}

void ThrowRoom::scheduleTrim() {
  if (trimScheduled_) return;
  trimScheduled_ = true;
  // Trim in small steps between iterations, so a large trim never holds the loop for long.
  loop_.setTimeout(10, [this] {
    trimScheduled_ = false;
    auto result = store_.trimStep();
    if (result.ok() && result.value().more) scheduleTrim();
  });
}

}  // namespace duplexd
