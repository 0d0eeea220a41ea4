// A compiled Unicode regular expression (PCRE2 with UTF and UCP, JIT-compiled where available) for
// the pre-tokenizer patterns of tokenizer.json: \p{L}, \p{N}, (?i:...) and lookahead such as \s+(?!\S)
// behave as in the Oniguruma engine Hugging Face tokenizers uses.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace slidesparse {

class UnicodeRegex {
 public:
  // Throws Error naming the pattern and PCRE2's reason when it does not compile.
  explicit UnicodeRegex(const std::string& pattern);
  ~UnicodeRegex();
  UnicodeRegex(UnicodeRegex&&) noexcept;
  UnicodeRegex& operator=(UnicodeRegex&&) noexcept;

  // [begin, end) byte offsets of the non-overlapping matches in `text` (valid UTF-8), left to right.
  // After an empty match the search resumes one character further on.
  std::vector<std::pair<size_t, size_t>> find_all(std::string_view text) const;

 private:
  struct Compiled;
  std::string pattern_;
  std::unique_ptr<Compiled> compiled_;
};

// `literal` with every regex metacharacter escaped (Split patterns given as {"String": ...}).
std::string escape_regex(std::string_view literal);

}  // namespace slidesparse
