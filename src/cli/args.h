// A small, strict command-line parser: declared options only, one clear error line otherwise.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "math/sparsity.h"
#include "math/weight_code.h"

namespace slidesparse {

class ArgParser {
 public:
  ArgParser(std::string command, std::string summary);

  // --name VALUE (or --name=VALUE); `fallback` is shown in help and returned when absent.
  void option(const std::string& name, const std::string& value_name, const std::string& help,
              std::optional<std::string> fallback = std::nullopt);
  void flag(const std::string& name, const std::string& help);
  void positional(const std::string& name, const std::string& help);

  // Returns false when --help was given (help already printed). Throws Error on unknown options,
  // missing values, missing or surplus positionals.
  bool parse(const std::vector<std::string>& args);

  bool declares(const std::string& name) const;  // an option or flag of this command
  bool has(const std::string& name) const;  // option given or has a fallback, or flag set
  std::string get(const std::string& name) const;
  int64_t get_int(const std::string& name) const;
  uint64_t get_uint(const std::string& name) const;
  std::string help() const;

 private:
  struct Spec {
    std::string value_name, help;
    std::optional<std::string> fallback;
    bool is_flag = false;
  };
  std::string command_, summary_;
  std::map<std::string, Spec> specs_;
  std::vector<std::string> order_;
  std::vector<std::pair<std::string, std::string>> positionals_;
  std::map<std::string, std::string> values_;
};

}  // namespace slidesparse

namespace slidesparse {

// "a,b,,c" -> {"a", "b", "", "c"}.
std::vector<std::string> split_commas(const std::string& text);
// "64,128,256" -> {64, 128, 256}; throws Error naming the option on anything else.
std::vector<int64_t> parse_int_list(const std::string& option, const std::string& text);
// "int8,fp8" or "all".
std::vector<QuantKind> parse_dtype_list(const std::string& option, const std::string& text);
// "2:4,2:6" (2:inf allowed when allow_inf).
std::vector<Sparsity> parse_sparsity_list(const std::string& text, bool allow_inf);

}  // namespace slidesparse
