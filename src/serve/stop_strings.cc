#include "serve/stop_strings.h"

#include <algorithm>

namespace slidesparse {

StopStrings::StopStrings(std::vector<std::string> stops, bool keep_stop_string) : keep_stop_string_(keep_stop_string) {
  for (auto& s : stops)
    if (!s.empty()) stops_.push_back(std::move(s));
}

StopStrings::Out StopStrings::push(const std::string& text) {
  if (stopped_) return {};
  pending_ += text;
  // The earliest stop string wins (at the same position: the first of the list).
  size_t first = std::string::npos, length = 0;
  for (const auto& s : stops_)
    if (const size_t at = pending_.find(s); at < first) {
      first = at;
      length = s.size();
    }
  if (first != std::string::npos) {
    stopped_ = true;
    Out out{pending_.substr(0, first + (keep_stop_string_ ? length : 0)), true};
    pending_.clear();
    return out;
  }
  // Hold back the longest suffix that a stop string starts with.
  size_t hold = 0;
  for (const auto& s : stops_)
    for (size_t n = std::min(s.size() - 1, pending_.size()); n > hold; --n)
      if (pending_.compare(pending_.size() - n, n, s, 0, n) == 0) {
        hold = n;
        break;
      }
  Out out{pending_.substr(0, pending_.size() - hold), false};
  pending_.erase(0, pending_.size() - hold);
  return out;
}

std::string StopStrings::finish() {
  std::string rest;
  rest.swap(pending_);
  return stopped_ ? std::string() : rest;
}

}  // namespace slidesparse
