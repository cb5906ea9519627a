#include "runtime/profile.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace strata::runtime {
namespace {

// JSON string contents: node names are ours, but may hold quotes or
// backslashes when a user chose them.
std::string JsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += absl::StrFormat("\\u%04x", c);
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

void Profile::BeginRun() { ++runs_; }

void Profile::Record(const std::string& node, const std::string& op, Clock::time_point start,
                     Clock::time_point end, int64_t reorders) {
  if (events_.empty()) origin_ = start;
  auto micros = [](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::micro>(b - a).count();
  };
  events_.push_back({node, op, runs_ - 1, micros(origin_, start), micros(start, end), reorders});
}

std::vector<OpTotal> Profile::TotalsByOp() const {
  std::map<std::string, OpTotal> by_op;
  for (const OpEvent& e : events_) {
    OpTotal& t = by_op[e.op];
    t.op = e.op;
    ++t.calls;
    t.total_us += e.duration_us;
    t.reorders += e.reorders;
  }
  std::vector<OpTotal> totals;
  for (auto& [op, t] : by_op) totals.push_back(t);
  std::sort(totals.begin(), totals.end(), [](const OpTotal& a, const OpTotal& b) { return a.total_us > b.total_us; });
  return totals;
}

std::string Profile::FormatTotals() const {
  const std::vector<OpTotal> totals = TotalsByOp();
  double sum = 0;
  int64_t reorders = 0;
  for (const OpTotal& t : totals) {
    sum += t.total_us;
    reorders += t.reorders;
  }
  const double runs = std::max<int64_t>(runs_, 1);
  std::string out = absl::StrFormat("%-28s %10s %7s %9s %9s\n", "op", "ms/run", "share", "calls/run", "reorders");
  for (const OpTotal& t : totals) {
    out += absl::StrFormat("%-28s %10.3f %6.1f%% %9.1f %9.1f\n", t.op, t.total_us / runs / 1e3,
                           sum > 0 ? 100 * t.total_us / sum : 0.0, t.calls / runs, t.reorders / runs);
  }
  out += absl::StrFormat("%-28s %10.3f %6.1f%% %9s %9.1f\n", "all ops", sum / runs / 1e3, 100.0, "",
                         reorders / runs);
  return out;
}

absl::Status Profile::WriteChromeTrace(const std::string& path) const {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return absl::NotFoundError(absl::StrCat("cannot write the trace ", path));
  std::fputs("{\"displayTimeUnit\": \"ms\", \"traceEvents\": [\n", f);
  for (size_t i = 0; i < events_.size(); ++i) {
    const OpEvent& e = events_[i];
    std::fprintf(f,
                 "{\"name\": \"%s\", \"cat\": \"%s\", \"ph\": \"X\", \"ts\": %.3f, \"dur\": %.3f, \"pid\": 1, "
                 "\"tid\": 1, \"args\": {\"run\": %lld, \"reorders\": %lld}}%s\n",
                 JsonEscape(e.node).c_str(), JsonEscape(e.op).c_str(), e.start_us, e.duration_us,
                 static_cast<long long>(e.run), static_cast<long long>(e.reorders),
                 i + 1 < events_.size() ? "," : "");
  }
  std::fputs("]}\n", f);
  if (std::fclose(f) != 0) return absl::DataLossError(absl::StrCat("cannot finish writing the trace ", path));
  return absl::OkStatus();
}

}  // namespace strata::runtime
