#include "text/bpe.h"

#include <cstdio>
#include <queue>

#include "core/error.h"
#include "text/utf8.h"

namespace slidesparse {

namespace {

std::string optional_string(const nlohmann::json& json, const char* key, const std::string& source) {
  const auto it = json.find(key);
  if (it == json.end() || it->is_null()) return "";
  require(it->is_string(), source + ": model field '" + key + "' must be a string or null");
  return it->get<std::string>();
}

bool optional_bool(const nlohmann::json& json, const char* key, const std::string& source) {
  const auto it = json.find(key);
  if (it == json.end() || it->is_null()) return false;
  require(it->is_boolean(), source + ": model field '" + key + "' must be true or false");
  return it->get<bool>();
}

std::pair<std::string, std::string> parse_merge(const nlohmann::json& merge, const std::string& source) {
  if (merge.is_string()) {
    const std::string text = merge.get<std::string>();
    const size_t space = text.find(' ');
    if (space == std::string::npos) fail(source + ": merge '" + text + "' is not two tokens separated by a space");
    return {text.substr(0, space), text.substr(space + 1)};
  }
  if (!(merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string()))
    fail(source + ": a merge must be \"a b\" or [\"a\", \"b\"], found " + merge.dump());
  return {merge[0].get<std::string>(), merge[1].get<std::string>()};
}

}  // namespace

// The checks inside the vocab and merge loops build their messages only on failure: a Llama-3 file
// holds 128k tokens and 280k merges.
BpeModel BpeModel::from_json(const nlohmann::json& json, const std::string& source) {
  BpeModel m;
  const auto vocab = json.find("vocab");
  require(vocab != json.end() && vocab->is_object(), source + ": BPE model without a 'vocab' object");
  for (const auto& [token, id] : vocab->items()) {
    if (!(id.is_number_integer() && id.get<int64_t>() >= 0 && id.get<int64_t>() <= INT32_MAX))
      fail(source + ": vocab id of '" + token + "' is not a non-negative 32-bit integer");
    m.vocab_[token] = id.get<int32_t>();
    m.tokens_[id.get<int32_t>()] = token;
  }
  const auto dropout = json.find("dropout");
  require(dropout == json.end() || dropout->is_null() || (dropout->is_number() && dropout->get<double>() == 0.0),
          source + ": BPE dropout is not supported (it makes encoding random)");
  m.continuing_subword_prefix_ = optional_string(json, "continuing_subword_prefix", source);
  m.end_of_word_suffix_ = optional_string(json, "end_of_word_suffix", source);
  m.fuse_unk_ = optional_bool(json, "fuse_unk", source);
  m.byte_fallback_ = optional_bool(json, "byte_fallback", source);
  m.ignore_merges_ = optional_bool(json, "ignore_merges", source);
  if (const std::string unk = optional_string(json, "unk_token", source); !unk.empty()) {
    m.unk_id_ = m.token_to_id(unk);
    require(m.unk_id_.has_value(), source + ": unk_token '" + unk + "' is not in the vocabulary");
  }

  const auto merges = json.find("merges");
  require(merges != json.end() && merges->is_array(), source + ": BPE model without a 'merges' list");
  const size_t prefix_length = m.continuing_subword_prefix_.size();
  for (size_t rank = 0; rank < merges->size(); ++rank) {
    const auto [left, right] = parse_merge((*merges)[rank], source);
    const auto left_id = m.token_to_id(left), right_id = m.token_to_id(right);
    // The merged token drops the right part's continuing-subword prefix ("##").
    const std::string merged = left + (right.compare(0, prefix_length, m.continuing_subword_prefix_) == 0
                                           ? right.substr(prefix_length) : right);
    const auto merged_id = m.token_to_id(merged);
    if (!(left_id && right_id && merged_id))
      fail(source + ": merge '" + left + " " + right + "' uses a token that is not in the vocabulary");
    // A repeated pair keeps its last rank, as the Hugging Face loader does.
    m.merges_[pair_key(*left_id, *right_id)] = Merge{static_cast<int32_t>(rank), *merged_id};
  }
  return m;
}

std::optional<int32_t> BpeModel::token_to_id(std::string_view token) const {
  const auto it = vocab_.find(std::string(token));
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const std::string* BpeModel::id_to_token(int32_t id) const {
  const auto it = tokens_.find(id);
  return it == tokens_.end() ? nullptr : &it->second;
}

std::vector<int32_t> BpeModel::initial_symbols(std::string_view word) const {
  std::vector<int32_t> symbols;
  bool pending_unk = false;  // an unknown run waiting to be fused (fuse_unk)
  const auto flush_unk = [&] {
    if (pending_unk) symbols.push_back(*unk_id_);
    pending_unk = false;
  };
  for (size_t pos = 0; pos < word.size();) {
    const size_t begin = pos;
    next_code_point(word, pos);
    std::string symbol(word.substr(begin, pos - begin));
    if (begin > 0) symbol = continuing_subword_prefix_ + symbol;
    if (pos == word.size()) symbol += end_of_word_suffix_;
    if (const auto id = token_to_id(symbol)) {
      flush_unk();
      symbols.push_back(*id);
      continue;
    }
    if (byte_fallback_) {
      std::vector<int32_t> bytes;
      for (const char c : symbol) {
        char name[8];
        std::snprintf(name, sizeof(name), "<0x%02X>", static_cast<unsigned>(static_cast<uint8_t>(c)));
        if (const auto id = token_to_id(name)) bytes.push_back(*id);
        else break;
      }
      if (bytes.size() == symbol.size()) {
        symbols.insert(symbols.end(), bytes.begin(), bytes.end());
        continue;
      }
    }
    if (!unk_id_) continue;  // without an unk token, Hugging Face drops the character
    if (!fuse_unk_) flush_unk();
    pending_unk = true;
  }
  flush_unk();
  return symbols;
}

std::vector<int32_t> BpeModel::apply_merges(std::vector<int32_t> symbols) const {
  // A doubly linked list over the symbols; the queue holds candidate merges ordered by rank, then
  // position (the leftmost of equal ranks first), and stale entries are skipped when popped.
  const int n = static_cast<int>(symbols.size());
  std::vector<int> prev(n), next(n);
  std::vector<bool> alive(n, true);
  for (int i = 0; i < n; ++i) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  struct Candidate {
    int32_t rank;
    int position;
    int32_t merged_id;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : position > o.position; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  const auto push_pair = [&](int left) {
    if (left < 0 || next[left] < 0) return;
    const auto it = merges_.find(pair_key(symbols[left], symbols[next[left]]));
    if (it != merges_.end()) queue.push({it->second.rank, left, it->second.merged_id});
  };
  for (int i = 0; i + 1 < n; ++i) push_pair(i);
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    if (!alive[top.position] || next[top.position] < 0) continue;
    const int right = next[top.position];
    const auto it = merges_.find(pair_key(symbols[top.position], symbols[right]));
    if (it == merges_.end() || it->second.merged_id != top.merged_id) continue;  // stale entry
    symbols[top.position] = top.merged_id;
    alive[right] = false;
    next[top.position] = next[right];
    if (next[right] >= 0) prev[next[right]] = top.position;
    push_pair(prev[top.position]);
    push_pair(top.position);
  }
  std::vector<int32_t> merged;
  for (int i = 0; i < n; ++i)
    if (alive[i]) merged.push_back(symbols[i]);
  return merged;
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>& ids) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    if (const auto id = token_to_id(word)) {
      ids.push_back(*id);
      return;
    }
  }
  for (const int32_t id : apply_merges(initial_symbols(word))) ids.push_back(id);
}

}  // namespace slidesparse
