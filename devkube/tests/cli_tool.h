// Runs real command-line clients (kubectl, helm) against an in-process ApiServer, and compares
// the JSON they print with what the server stored.
//
// Contract: Run() starts the tool as a zkop::testing::Subprocess (own process group, reaped by
// PID, killed when the test ends), waits up to `limit` and returns its exit status (-999 on
// timeout, after killing it) and combined output. Nothing here throws once the program exists.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "json_util.h"

namespace zkop::devkube::testing {

struct ToolRun {
  int exit = -1;
  std::string output;
};

ToolRun RunTool(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                const std::string& output_file,
                std::chrono::seconds limit = std::chrono::seconds(60));

// `v` without the members a Go client leaves at their zero values: null, "", 0, false, and
// objects or lists that are empty (after pruning). List items are kept as they are.
Json PruneZeros(const Json& v);

// Field-by-field: every member of `expected` is in `actual` with the same value (lists: same
// length, item by item). Returns one line per difference, naming the JSON path.
std::vector<std::string> MissingFields(const Json& actual, const Json& expected,
                                       const std::string& path = "");

}  // namespace zkop::devkube::testing
