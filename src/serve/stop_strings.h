// OpenAI `stop` strings on streamed text: the reply ends at the first occurrence of any of them
// (before it, or after it with keep_stop_string: vLLM's include_stop_str_in_output), and text that
// could still turn into one is held back until it cannot.
#pragma once

#include <string>
#include <vector>

namespace slidesparse {

class StopStrings {
 public:
  // Empty strings are ignored.
  explicit StopStrings(std::vector<std::string> stops, bool keep_stop_string = false);

  struct Out {
    std::string text;      // final text to hand out now
    bool stopped = false;  // a stop string was reached: the reply ends after `text`
  };
  // Appends newly decoded text.
  Out push(const std::string& text);
  // End of the reply: everything held back is final.
  std::string finish();

 private:
  std::vector<std::string> stops_;
  bool keep_stop_string_;
  std::string pending_;  // held back: a suffix that is a prefix of some stop string
  bool stopped_ = false;
};

}  // namespace slidesparse
