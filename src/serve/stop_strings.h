// OpenAI `stop` strings on streamed text: the reply ends before the first occurrence of any of them
// (the stop string itself is not returned), and text that could still turn into one is held back
// until it cannot.
#pragma once

#include <string>
#include <vector>

namespace slidesparse {

class StopStrings {
 public:
  explicit StopStrings(std::vector<std::string> stops);  // empty strings are ignored

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
  std::string pending_;  // held back: a suffix that is a prefix of some stop string
  bool stopped_ = false;
};

}  // namespace slidesparse
