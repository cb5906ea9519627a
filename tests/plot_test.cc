// viz/plot and `strata plot`: a metrics.csv written by metrics::CsvWriter
// (with a plateau cut of the learning rate and an RFC 4180 quoted extra
// column) read back, drawn as SVG and checked structurally: balanced tags,
// one polyline point per logged value, the cut visible in the lr curve, and
// malformed CSV files rejected with the file and line.
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "metrics/csv_writer.h"
#include "tools/visualize.h"
#include "viz/plot.h"

ABSL_DECLARE_FLAG(std::string, csv);
ABSL_DECLARE_FLAG(std::string, out);

namespace strata {
namespace {

std::string TmpDir() {
  const char* d = std::getenv("TEST_TMPDIR");
  return d ? d : "/tmp";
}

const std::vector<std::string> kColumns = {"step", "epoch", "kind", "loss", "learning_rate", "images_per_second",
                                           "test_accuracy", "validation_accuracy", "note"};

// 20 step rows (every 10 steps, lr 0.1 cut to `cut_lr` after step 100) and 4
// epoch rows; `note` needs quoting (a comma, quotes and a line break).
std::string WriteLog(const std::string& name, double cut_lr) {
  const std::string path = absl::StrCat(TmpDir(), "/", name);
  auto w = metrics::CsvWriter::Open(path, kColumns);
  EXPECT_TRUE(w.ok()) << w.status();
  for (int i = 1; i <= 20; ++i) {
    const int step = i * 10;
    const int epoch = (i - 1) / 5;
    EXPECT_TRUE((*w)->WriteRow({absl::StrCat(step), absl::StrCat(epoch), "step", metrics::CsvNumber(2.3 / i),
                                metrics::CsvNumber(step <= 100 ? 0.1 : cut_lr), "1000", "", "",
                                i == 3 ? "plateau, \"cut\"\nsoon" : ""})
                    .ok());
    if (i % 5 == 0) {
      EXPECT_TRUE((*w)->WriteRow({absl::StrCat(step), absl::StrCat(epoch), "epoch", metrics::CsvNumber(2.3 / i),
                                  metrics::CsvNumber(step <= 100 ? 0.1 : cut_lr), "900",
                                  metrics::CsvNumber(0.5 + 0.1 * (i / 5)), metrics::CsvNumber(0.45 + 0.1 * (i / 5)),
                                  ""})
                      .ok());
    }
  }
  return path;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A small XML structure check: every tag closed in order, attribute values
// quoted and free of '<', '&' only in entities, exactly one root element.
::testing::AssertionResult WellFormed(const std::string& xml) {
  std::vector<std::string> stack;
  int roots = 0;
  size_t i = 0;
  auto entity_ok = [&](size_t at) {
    for (const char* e : {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"}) {
      if (xml.compare(at, std::string(e).size(), e) == 0) return true;
    }
    return false;
  };
  while (i < xml.size()) {
    if (xml[i] == '&' && !entity_ok(i)) return ::testing::AssertionFailure() << "bare '&' at " << i;
    if (xml[i] == '>') return ::testing::AssertionFailure() << "stray '>' at " << i;
    if (xml[i] != '<') {
      ++i;
      continue;
    }
    if (xml.compare(i, 2, "<?") == 0) {
      const size_t end = xml.find("?>", i);
      if (end == std::string::npos) return ::testing::AssertionFailure() << "unclosed <? at " << i;
      i = end + 2;
      continue;
    }
    // Scan the tag, honouring quoted attribute values.
    size_t j = i + 1;
    char quote = 0;
    for (; j < xml.size(); ++j) {
      const char c = xml[j];
      if (quote) {
        if (c == quote) quote = 0;
        else if (c == '<') return ::testing::AssertionFailure() << "'<' in an attribute at " << j;
        else if (c == '&' && !entity_ok(j)) return ::testing::AssertionFailure() << "bare '&' in an attribute at " << j;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '<') {
        return ::testing::AssertionFailure() << "'<' inside a tag at " << j;
      } else if (c == '>') {
        break;
      }
    }
    if (j >= xml.size()) return ::testing::AssertionFailure() << "unclosed tag at " << i;
    const std::string tag = xml.substr(i + 1, j - i - 1);
    i = j + 1;
    if (tag[0] == '/') {
      const std::string name = tag.substr(1);
      if (stack.empty() || stack.back() != name) {
        return ::testing::AssertionFailure() << "</" << name << "> closes " << (stack.empty() ? "nothing" : stack.back());
      }
      stack.pop_back();
      continue;
    }
    const std::string name = tag.substr(0, tag.find_first_of(" \t\n/"));
    if (stack.empty() && ++roots > 1) return ::testing::AssertionFailure() << "a second root <" << name << ">";
    if (tag.back() != '/') stack.push_back(name);
  }
  if (!stack.empty()) return ::testing::AssertionFailure() << "<" << stack.back() << "> never closed";
  if (roots != 1) return ::testing::AssertionFailure() << roots << " root elements";
  return ::testing::AssertionSuccess();
}

struct Point {
  double x, y;
};

// The points of <polyline class="NAME" ...>; fails the test when absent.
std::vector<Point> Polyline(const std::string& svg, const std::string& name) {
  const size_t at = svg.find(absl::StrCat("<polyline class=\"", name, "\""));
  EXPECT_NE(at, std::string::npos) << name;
  if (at == std::string::npos) return {};
  const size_t p = svg.find("points=\"", at) + 8;
  const std::string points = svg.substr(p, svg.find('"', p) - p);
  std::vector<Point> out;
  for (absl::string_view xy : absl::StrSplit(points, ' ', absl::SkipEmpty())) {
    std::vector<absl::string_view> c = absl::StrSplit(xy, ',');
    Point pt{0, 0};
    EXPECT_EQ(c.size(), 2u) << xy;
    EXPECT_TRUE(c.size() == 2 && absl::SimpleAtod(c[0], &pt.x) && absl::SimpleAtod(c[1], &pt.y)) << xy;
    out.push_back(pt);
  }
  return out;
}

TEST(Csv, ReadsTheWritersQuoting) {
  const std::string path = WriteLog("quoted.csv", 0.005);
  auto t = viz::ReadCsv(path);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->header, kColumns);
  ASSERT_EQ(t->rows.size(), 24u);
  EXPECT_EQ(t->rows[2][8], "plateau, \"cut\"\nsoon");
  EXPECT_EQ(t->lines[2], 4);  // header, rows at steps 10 and 20, then this one
  EXPECT_EQ(t->lines[3], 6);  // after the two-line field
  EXPECT_EQ(t->rows[5][2], "epoch");  // after the fifth step row
  EXPECT_EQ(t->rows[5][6], "0.6");

  auto crlf = viz::ParseCsv("a,b\r\n1,\"x\r\ny\"\r\n2,3", "crlf.csv");
  ASSERT_TRUE(crlf.ok()) << crlf.status();
  ASSERT_EQ(crlf->rows.size(), 2u);
  EXPECT_EQ(crlf->rows[0][1], "x\r\ny");
  EXPECT_EQ(crlf->rows[1][1], "3");
  EXPECT_EQ(crlf->lines[1], 4);
}

TEST(Csv, MalformedFilesNameTheLine) {
  const std::string header = "step,epoch,kind,loss,learning_rate,images_per_second,test_accuracy,validation_accuracy\n";
  const std::string good = "10,0,step,2.3,0.1,1000,,\n";
  struct Case {
    std::string text, line, why;
  };
  const std::vector<Case> cases = {
      {header + good + good + "30,0,step,2.x,0.1,1000,,\n", "line 4:", "not a number"},
      {header + good + "20,0,step,2.3,0.1\n", "line 3:", "5 fields"},
      {header + good + good + "30,0,\"step,2.3,0.1,1000,,\n" + good, "line 4:", "not closed"},
      {header + good + "20,0,st\"ep,2.3,0.1,1000,,\n", "line 3:", "quote"},
      {header + good + "20,0,\"step\"x,2.3,0.1,1000,,\n", "line 3:", "closing quote"},
      {header + good + "20,0,batch,2.3,0.1,1000,,\n", "line 3:", "neither"},
      {"step,kind,loss\n10,step,2.3\n", "line 1:", "learning_rate"},
      {"", "line 1:", "empty"},
  };
  for (const Case& c : cases) {
    const std::string path = absl::StrCat(TmpDir(), "/bad.csv");
    std::ofstream(path, std::ios::binary) << c.text;
    absl::Status s = viz::PlotTrainingCsv(path, absl::StrCat(TmpDir(), "/bad.svg"));
    ASSERT_FALSE(s.ok()) << c.text;
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_TRUE(absl::StrContains(s.message(), absl::StrCat("CSV file ", path, ", ", c.line))) << s;
    EXPECT_TRUE(absl::StrContains(s.message(), c.why)) << s;
  }
  EXPECT_FALSE(viz::PlotTrainingCsv(absl::StrCat(TmpDir(), "/missing.csv"), absl::StrCat(TmpDir(), "/m.svg")).ok());
}

TEST(Plot, PanelsPolylinesAndTheCut) {
  const std::string csv = WriteLog("run.csv", 0.005);  // a 20x cut: log scale
  const std::string out = absl::StrCat(TmpDir(), "/run.svg");
  viz::PlotOptions o;
  o.title = "run <1> & 'cut' \"lr\"";
  ASSERT_TRUE(viz::PlotTrainingCsv(csv, out, o).ok());
  const std::string svg = ReadFile(out);
  ASSERT_TRUE(WellFormed(svg)) << svg;
  EXPECT_TRUE(absl::StrContains(svg, "run &lt;1&gt; &amp; &apos;cut&apos; &quot;lr&quot;"));
  for (const char* title : {">training loss<", ">learning rate (log scale)<", ">accuracy<", ">step<"}) {
    EXPECT_TRUE(absl::StrContains(svg, title)) << title;
  }
  const std::vector<Point> loss = Polyline(svg, "loss");
  const std::vector<Point> lr = Polyline(svg, "learning_rate");
  const std::vector<Point> test = Polyline(svg, "test_accuracy");
  const std::vector<Point> validation = Polyline(svg, "validation_accuracy");
  EXPECT_EQ(loss.size(), 20u);  // step rows
  EXPECT_EQ(lr.size(), 20u);
  EXPECT_EQ(test.size(), 4u);   // epoch rows
  EXPECT_EQ(validation.size(), 4u);
  ASSERT_EQ(lr.size(), 20u);
  // Steps go left to right on a shared axis; SVG y grows downwards, so the
  // cut puts the last ten lr points lower on the page (a larger y), all equal.
  for (size_t i = 1; i < lr.size(); ++i) EXPECT_GT(lr[i].x, lr[i - 1].x);
  EXPECT_DOUBLE_EQ(lr[0].x, loss[0].x);
  EXPECT_DOUBLE_EQ(lr[9].y, lr[0].y);
  EXPECT_GT(lr[10].y, lr[9].y + 50);
  EXPECT_DOUBLE_EQ(lr[19].y, lr[10].y);
  EXPECT_GT(loss.back().y, loss.front().y);  // the loss falls
  EXPECT_LT(test.back().y, test.front().y);  // accuracy rises
  EXPECT_GT(validation.back().y, test.back().y);  // validation is below test
  // Tick labels of the log axis are decades.
  EXPECT_TRUE(absl::StrContains(svg, ">0.001<"));
  EXPECT_TRUE(absl::StrContains(svg, ">0.1<"));
}

TEST(Plot, SmallCutStaysLinearAndEmptyColumnsDrawNothing) {
  auto t = viz::ReadCsv(WriteLog("small_cut.csv", 0.05));
  ASSERT_TRUE(t.ok()) << t.status();
  auto log = viz::ParseTrainingLog(*t);
  ASSERT_TRUE(log.ok()) << log.status();
  log->validation_accuracy = {};  // as without --validation
  log->loss.values[5] = std::nan("");  // a diverged step is left out
  const std::string svg = viz::TrainingLogSvg(*log);
  ASSERT_TRUE(WellFormed(svg));
  EXPECT_FALSE(absl::StrContains(svg, "log scale"));
  EXPECT_EQ(Polyline(svg, "loss").size(), 19u);
  EXPECT_EQ(Polyline(svg, "validation_accuracy").size(), 0u);
  const std::vector<Point> lr = Polyline(svg, "learning_rate");
  ASSERT_EQ(lr.size(), 20u);
  EXPECT_GT(lr[10].y, lr[9].y);

  const std::string empty = viz::TrainingLogSvg(viz::TrainingLog{});
  EXPECT_TRUE(WellFormed(empty));
  EXPECT_TRUE(absl::StrContains(empty, "no data"));
}

TEST(Plot, StrataPlotCommand) {
  const std::string csv = WriteLog("cmd.csv", 0.01);
  const std::string out = absl::StrCat(TmpDir(), "/cmd.svg");
  absl::SetFlag(&FLAGS_csv, csv);
  absl::SetFlag(&FLAGS_out, out);
  char strata[] = "strata", plot[] = "plot", extra[] = "extra";
  EXPECT_EQ(tools::RunPlot({strata, plot}), 0);
  EXPECT_TRUE(WellFormed(ReadFile(out)));
  EXPECT_EQ(tools::RunPlot({strata, plot, extra}), 2);
  absl::SetFlag(&FLAGS_csv, absl::StrCat(TmpDir(), "/missing.csv"));
  EXPECT_EQ(tools::RunPlot({strata, plot}), 1);
}

}  // namespace
}  // namespace strata
