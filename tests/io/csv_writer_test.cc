#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "core/error.h"
#include "io/csv_writer.h"

namespace slidesparse {
namespace {

TEST(CsvWriter, QuotesCellsThatNeedIt) {
  CsvWriter w("unused.csv", {"M", "note"});
  w.add_row({"64", "plain"});
  w.add_row({"128", "a,b"});
  w.add_row({"256", "say \"hi\""});
  EXPECT_EQ(w.text(), "M,note\n64,plain\n128,\"a,b\"\n256,\"say \"\"hi\"\"\"\n");
}

TEST(CsvWriter, RowCellCountMustMatchHeader) {
  CsvWriter w("x.csv", {"a", "b", "c", "d"});
  try {
    w.add_row({"1", "2", "3"});
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "x.csv: row has 3 cells, header has 4");
  }
}

TEST(CsvWriter, SaveCreatesParentsAndWritesWholeFile) {
  const auto dir = std::filesystem::temp_directory_path() / ("slidesparse-csv-" + std::to_string(::getpid()));
  CsvWriter w(dir / "nested" / "t.csv", {"M", "us"});
  w.add_row({"64", format_fixed(12.3456, 2)});
  w.save();
  std::ifstream in(dir / "nested" / "t.csv");
  std::stringstream s;
  s << in.rdbuf();
  EXPECT_EQ(s.str(), "M,us\n64,12.35\n");
  std::filesystem::remove_all(dir);
}

TEST(CsvWriter, FormatFixed) {
  EXPECT_EQ(format_fixed(1.005, 1), "1.0");
  EXPECT_EQ(format_fixed(413.8, 2), "413.80");
  EXPECT_EQ(format_fixed(-2.5, 0), "-2");
}

}  // namespace
}  // namespace slidesparse
