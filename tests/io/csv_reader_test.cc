#include "io/csv_reader.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "io/csv_writer.h"
#include "io_test_support.h"

namespace slidesparse {
namespace {

using io_test::error_of;
using io_test::ScratchDir;

TEST(CsvReader, ReadsWhatTheWriterWrites) {
  CsvWriter w("unused.csv", {"M", "note", "tops"});
  w.add_row({"64", "a,b", "1.5"});
  w.add_row({"128", "say \"hi\"", "-2"});
  w.add_row({"256", "two\nlines", ""});
  const CsvTable t = CsvTable::parse(w.text(), "x.csv");
  EXPECT_EQ(t.header(), (std::vector<std::string>{"M", "note", "tops"}));
  ASSERT_EQ(t.rows(), 3u);
  EXPECT_EQ(t.text(0, "note"), "a,b");
  EXPECT_EQ(t.text(1, "note"), "say \"hi\"");
  EXPECT_EQ(t.text(2, "note"), "two\nlines");
  EXPECT_EQ(t.text(2, "tops"), "");
  EXPECT_EQ(t.integer(1, "M"), 128);
  EXPECT_EQ(t.number(1, "tops"), -2.0);
  EXPECT_EQ(t.line(0), 2);
  EXPECT_EQ(t.line(2), 4);
  EXPECT_TRUE(t.has_column("tops"));
  EXPECT_FALSE(t.has_column("latency"));
}

TEST(CsvReader, LinesCountEmbeddedNewlinesAndCrLf) {
  const CsvTable t = CsvTable::parse("a,b\r\n\"x\ny\",1\r\nz,2", "x.csv");  // no newline at the end
  ASSERT_EQ(t.rows(), 2u);
  EXPECT_EQ(t.line(0), 2);
  EXPECT_EQ(t.line(1), 4);
  EXPECT_EQ(t.text(1, "a"), "z");
  EXPECT_EQ(error_of([&] { t.number(0, "a"); }), "x.csv: line 2: column 'a': 'x\ny' is not a number");
}

TEST(CsvReader, ErrorsNameFileAndLine) {
  EXPECT_EQ(error_of([] { CsvTable::parse("", "r/a.csv"); }), "r/a.csv: empty file (no header row)");
  EXPECT_EQ(error_of([] { CsvTable::parse("a,b\n1,2\n3\n", "r/a.csv"); }),
            "r/a.csv: line 3: row has 1 cells, header has 2");
  EXPECT_EQ(error_of([] { CsvTable::parse("a,b\n1,2,3\n", "r/a.csv"); }),
            "r/a.csv: line 2: row has 3 cells, header has 2");
  EXPECT_EQ(error_of([] { CsvTable::parse("a,b\n1,2\n\n", "r/a.csv"); }),
            "r/a.csv: line 3: row has 1 cells, header has 2");
  EXPECT_EQ(error_of([] { CsvTable::parse("a,b\n1,\"2\n", "r/a.csv"); }), "r/a.csv: line 2: unterminated quoted cell");
  const CsvTable t = CsvTable::parse("M,us\n64,1.5x\n6.4e1,\n", "r/a.csv");
  EXPECT_EQ(error_of([&] { t.column("tops"); }), "r/a.csv: no column 'tops' in the header");
  EXPECT_EQ(error_of([&] { t.number(0, "us"); }), "r/a.csv: line 2: column 'us': '1.5x' is not a number");
  EXPECT_EQ(error_of([&] { t.number(1, "us"); }), "r/a.csv: line 3: column 'us': '' is not a number");
  EXPECT_EQ(error_of([&] { t.integer(1, "M"); }), "r/a.csv: line 3: column 'M': '6.4e1' is not an integer");
  EXPECT_EQ(t.number(1, "M"), 64.0);
}

TEST(CsvReader, ReadsFilesAndNamesOnesItCannotOpen) {
  ScratchDir dir;
  CsvWriter w(dir / "t.csv", {"M"});
  w.add_row({"64"});
  w.save();
  EXPECT_EQ(read_csv(dir / "t.csv").integer(0, "M"), 64);
  EXPECT_EQ(read_csv(dir / "t.csv").source(), dir / "t.csv");
  EXPECT_EQ(error_of([&] { read_csv(dir / "none.csv"); }),
            (dir / "none.csv").string() + ": cannot read: No such file or directory");
}

}  // namespace
}  // namespace slidesparse
