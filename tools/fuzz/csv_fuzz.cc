// The result CSVs the report reads back (io/csv_reader.h): any text parses into a table whose every
// cell reads as text, number or integer, or fails with one Error naming the file and line.
#include <cstdint>
#include <string_view>

#include "fuzz_support.h"
#include "io/csv_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace slidesparse;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  fuzz::expect_only_errors("csv", [&] {
    const CsvTable table = CsvTable::parse(text, "f.csv");
    for (size_t row = 0; row < table.rows(); ++row)
      for (const std::string& column : table.header()) {
        (void)table.text(row, column);
        fuzz::expect_only_errors("csv number", [&] { (void)table.number(row, column); });
        fuzz::expect_only_errors("csv integer", [&] { (void)table.integer(row, column); });
      }
  });
  return 0;
}
