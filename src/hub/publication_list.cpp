#include "hub/publication_list.h"

#include "hub/hub_protocol_writer.h"

namespace duplex::hub {

void PublicationList::add(uint64_t offset, std::string_view data) {
  if (keep_ == Keep::Oldest) {
    if (overflowed_) return;
    size_t before = out_.size();
    appendPublication(out_, offset, data);
    // Written first and taken back when it does not fit: the row's JSON is only known whole.
    // (A single publication over the whole budget leaves the list empty and overflowed.)
    if (bytes() > maxBytes_) {
      out_.resize(before);
      overflowed_ = true;
    } else {
      starts_.push_back(before - begin_);
    }
    return;
  }
  starts_.push_back(out_.size() - begin_);
  appendPublication(out_, offset, data);
  if (bytes() > 2 * maxBytes_) dropOldestBeyond(maxBytes_);
}

void PublicationList::finish() {
  if (keep_ == Keep::Newest && bytes() > maxBytes_) dropOldestBeyond(maxBytes_);
}

void PublicationList::dropOldestBeyond(size_t budget) {
  // starts_[i] is where publication i begins; from the second one on, that is at its ','.
  size_t first = dropped_;
  size_t cut = first;
  while (cut < starts_.size() && bytes() - starts_[cut] > budget) ++cut;
  if (cut == first) return;
  overflowed_ = true;
  size_t from = starts_[first];
  size_t to = cut < starts_.size() ? starts_[cut] : bytes();
  // The new first publication loses its separating ','.
  if (cut < starts_.size() && out_[begin_ + to] == ',') ++to;
  out_.erase(begin_ + from, to - from);
  size_t removed = to - from;
  for (size_t i = cut; i < starts_.size(); ++i) starts_[i] -= removed;
  if (cut < starts_.size()) starts_[cut] = from;  // it starts where the erased ones did
  dropped_ = cut;
}

}  // namespace duplex::hub
