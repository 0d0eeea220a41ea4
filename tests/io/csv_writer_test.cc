#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "io/csv_writer.h"
#include "io_test_support.h"

namespace slidesparse {
namespace {

using io_test::error_of;
using io_test::listing;
using io_test::read_bytes;
using io_test::ScratchDir;

TEST(CsvWriter, QuotesExactlyTheCellsThatNeedIt) {
  CsvWriter w("unused.csv", {"M", "note"});
  w.add_row({"64", "plain"});
  w.add_row({"128", "a,b"});
  w.add_row({"256", "say \"hi\""});
  w.add_row({"512", "two\nlines"});
  w.add_row({"1024", "cr\rhere"});
  w.add_row({"2048", " spaces stay "});
  w.add_row({"4096", ""});
  EXPECT_EQ(w.text(),
            "M,note\n64,plain\n128,\"a,b\"\n256,\"say \"\"hi\"\"\"\n512,\"two\nlines\"\n1024,\"cr\rhere\"\n"
            "2048, spaces stay \n4096,\n");
}

TEST(CsvWriter, HeaderCellsAreQuotedToo) {
  const CsvWriter w("unused.csv", {"latency,us", "tops"});
  EXPECT_EQ(w.text(), "\"latency,us\",tops\n");
}

TEST(CsvWriter, RowCellCountMustMatchHeader) {
  CsvWriter w("out/x.csv", {"a", "b", "c", "d"});
  EXPECT_EQ(error_of([&] { w.add_row({"1", "2", "3"}); }), "out/x.csv: row has 3 cells, header has 4");
  EXPECT_EQ(error_of([&] { w.add_row({"1", "2", "3", "4", "5"}); }), "out/x.csv: row has 5 cells, header has 4");
  EXPECT_EQ(error_of([&] { w.add_row({}); }), "out/x.csv: row has 0 cells, header has 4");
  EXPECT_EQ(w.text(), "a,b,c,d\n");  // rejected rows leave nothing behind
}

TEST(CsvWriter, SaveCreatesParentsAndWritesWholeFile) {
  const ScratchDir dir;
  CsvWriter w(dir / "nested" / "t.csv", {"M", "us"});
  w.add_row({"64", format_fixed(12.3456, 2)});
  w.add_row({"128", "a,b"});
  w.save();
  EXPECT_EQ(read_bytes(dir / "nested" / "t.csv"), "M,us\n64,12.35\n128,\"a,b\"\n");
  EXPECT_EQ(listing(dir / "nested"), std::set<std::string>{"t.csv"});  // no temporary left
}

TEST(CsvWriter, SaveReplacesAnExistingFileWhole) {
  const ScratchDir dir;
  io_test::write_bytes(dir / "t.csv", std::string(10000, 'x'));
  CsvWriter w(dir / "t.csv", {"M"});
  w.add_row({"64"});
  w.save();
  EXPECT_EQ(read_bytes(dir / "t.csv"), "M\n64\n");
  EXPECT_EQ(listing(dir.path()), std::set<std::string>{"t.csv"});
}

TEST(CsvWriter, SaveIntoAnUnwritablePlaceNamesTheFile) {
  const ScratchDir dir;
  io_test::write_bytes(dir / "file", "not a directory");
  const CsvWriter w(dir / "file" / "t.csv", {"M"});
  const std::string message = error_of([&] { w.save(); });
  EXPECT_NE(message, "<no error thrown>");
  EXPECT_NE(message.find((dir / "file").string()), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

TEST(CsvWriter, FormatFixed) {
  EXPECT_EQ(format_fixed(1.005, 1), "1.0");
  EXPECT_EQ(format_fixed(413.8, 2), "413.80");
  EXPECT_EQ(format_fixed(-2.5, 0), "-2");
  EXPECT_EQ(format_fixed(0.0, 3), "0.000");
  EXPECT_EQ(format_fixed(2.0 / 3.0, 4), "0.6667");
  EXPECT_EQ(format_fixed(1234567.891, 1), "1234567.9");
  EXPECT_EQ(format_fixed(1e300, 0).size(), 301u);  // no truncation of long values
}

}  // namespace
}  // namespace slidesparse
