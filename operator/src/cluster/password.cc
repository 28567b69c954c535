#include <random>

#include "zkop/operator/cluster/render.h"

namespace zkop::op::cluster {

std::string NewAdminPassword() {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device rd;
  std::uniform_int_distribution<size_t> pick(0, sizeof(kAlphabet) - 2);
  std::string out;
  for (int i = 0; i < 32; ++i) out += kAlphabet[pick(rd)];
  return out;
}

}  // namespace zkop::op::cluster
