// Running the real `strata` binary (a data dependency of the test) and
// collecting what it printed, for the suites that test the command line.
#ifndef STRATA_TESTS_COMMAND_UTIL_H_
#define STRATA_TESTS_COMMAND_UTIL_H_

#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace strata::test {

struct CommandResult {
  int exit_code = -1;  // -1: it did not exit normally (a signal) or did not start
  std::string output;  // stdout and stderr together
  double seconds = 0;
};

// A command line, through the shell, its stderr merged into its stdout.
inline CommandResult RunCommand(const std::string& command) {
  CommandResult run;
  const auto start = std::chrono::steady_clock::now();
  FILE* pipe = popen(absl::StrCat(command, " 2>&1").c_str(), "r");
  if (pipe == nullptr) return run;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) run.output.append(buffer, n);
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return run;
}

// The strata binary in the test's runfiles.
inline std::string StrataBinary() { return absl::StrCat(std::getenv("TEST_SRCDIR"), "/strata/tools/strata"); }

// `strata <args>`.
inline CommandResult RunStrata(const std::string& args) { return RunCommand(StrataBinary() + " " + args); }

// An empty folder `suite`/`name` under the test's temporary directory.
inline std::string FreshDir(const std::string& suite, const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/" + suite + "/" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace strata::test

#endif  // STRATA_TESTS_COMMAND_UTIL_H_
