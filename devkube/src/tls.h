// The emulator's certificates, made with OpenSSL's library at start: a self-signed CA and a
// serving certificate it signs (what kubeadm's "certs" phase makes for kube-apiserver).
//
// Contract: MakeServingCertificates throws std::runtime_error naming the OpenSSL step that
// failed; nothing else throws. Keys are ECDSA P-256, validity 1 year (CA 10 years), SHA-256.
// Private keys never leave the process except as the PEM returned here.
#pragma once

#include <string>
#include <vector>

namespace zkop::devkube {

struct Certificates {
  std::string ca_cert_pem;
  std::string ca_key_pem;
  std::string serving_cert_pem;  // signed by the CA; SANs as given
  std::string serving_key_pem;
};

// `ip_sans` are IPv4/IPv6 literals, `dns_sans` host names.
Certificates MakeServingCertificates(const std::vector<std::string>& ip_sans,
                                     const std::vector<std::string>& dns_sans);

// HMAC-SHA256 of `data` under `key` (32 raw bytes).
std::string HmacSha256(const std::string& key, const std::string& data);
// `n` bytes from OpenSSL's CSPRNG; throws std::runtime_error when it fails.
std::string RandomBytes(size_t n);

}  // namespace zkop::devkube
