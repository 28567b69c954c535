// The `render` command of zkop-operator (see render_command.cc).
#pragma once

#include <ostream>

namespace zkop::op::cluster {

// argv[0] is "render". Exit status: 0 rendered, 1 a manifest or spec error (named on `err`),
// 2 a usage error.
int RunRender(int argc, char** argv, std::ostream& out, std::ostream& err);

}  // namespace zkop::op::cluster
