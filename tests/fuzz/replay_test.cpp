// Replays, for each fuzz target, every seed in fuzz/corpus/<target>/ and every saved crash
// input in tests/fuzz/regressions/<target>/ through the target's own checks, built with this
// tree's compiler: so the normal trees (g++, and ASan+UBSan) run what libFuzzer runs, and a
// crash once found stays fixed. A broken check aborts with its message; the line before it in
// the test's output names the input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_targets.h"

namespace {

namespace fs = std::filesystem;

std::vector<fs::path> inputsOf(const std::string& target) {
  std::vector<fs::path> files;
  for (const fs::path& dir :
       {fs::path(DUPLEX_SOURCE_DIR) / "fuzz" / "corpus" / target,
        fs::path(DUPLEX_SOURCE_DIR) / "tests" / "fuzz" / "regressions" / target}) {
    if (!fs::is_directory(dir)) continue;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

class Replay : public testing::TestWithParam<FuzzTarget> {};

TEST_P(Replay, SeedsAndRegressions) {
  const FuzzTarget& target = GetParam();
  const std::vector<fs::path> files = inputsOf(target.name);
  EXPECT_FALSE(files.empty()) << "no seeds in fuzz/corpus/" << target.name;
  for (const fs::path& file : files) {
    std::ifstream in(file, std::ios::binary);
    ASSERT_TRUE(in) << file;
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                     std::istreambuf_iterator<char>());
    std::printf("replay %s\n", file.c_str());
    std::fflush(stdout);
    // A copy of exactly the input's size, as libFuzzer hands it over (reads past it are caught
    // by ASan in the sanitized tree).
    const std::unique_ptr<uint8_t[]> copy(new uint8_t[bytes.size()]);
    std::copy(bytes.begin(), bytes.end(), copy.get());
    EXPECT_EQ(target.run(copy.get(), bytes.size()), 0) << file;
  }
  // The empty input too: every target must take any bytes.
  EXPECT_EQ(target.run(nullptr, 0), 0);
}

INSTANTIATE_TEST_SUITE_P(Fuzz, Replay, testing::ValuesIn(fuzzTargets()),
                         [](const testing::TestParamInfo<FuzzTarget>& param) {
                           return param.param.name;
                         });

}  // namespace
