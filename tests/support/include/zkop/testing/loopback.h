// Loopback addresses and ports for tests that run beside other tests.
//
// Every test fixture that listens picks its own random 127.a.b.c address, so servers can
// keep their standard ports (2181, 2888, 3888) without colliding with other fixtures,
// other test binaries or other people's tests on the same machine. Availability is checked
// by binding each port (with SO_REUSEADDR, as servers do). Addresses handed out are
// remembered for the life of the process and never handed out twice.
// Thread-safe.
#pragma once

#include <string>
#include <vector>

namespace zkop::testing {

// True when a TCP socket can bind ip:port right now.
bool CanBind(const std::string& ip, int port);

// A random 127.a.b.c (a in 1..254, b and c in 0..255, c != 0 and != 255) on which every
// port of `ports` can be bound. Throws std::runtime_error after `attempts` tries.
std::string PickLoopbackAddress(const std::vector<int>& ports, int attempts = 200);

// A free port on `ip` chosen by the kernel (bind to port 0). Throws std::runtime_error.
int PickFreePort(const std::string& ip);

}  // namespace zkop::testing
