// tests/support/certificate.h
//
// Certificate is a key and a self-signed certificate for 127.0.0.1 and
// localhost, made with the OpenSSL API at test time, for a test server's TLS
// (FlagServer in tests/support/flag_server.h, hotfixd in the integration
// tests) and the CA file of its clients.
//
// Example:
//
//   Certificate certificate;
//   ASSERT_TRUE(certificate.WritePem(dir + "/cert.pem"));
//   options.remote.ca_file = dir + "/cert.pem";
//
// Thread-compatible: a Certificate is not changed after it is made.

#ifndef HOTFIX_TESTS_SUPPORT_CERTIFICATE_H_
#define HOTFIX_TESTS_SUPPORT_CERTIFICATE_H_

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace hotfix {
namespace testing_support {

// A self-signed certificate for IP 127.0.0.1 and DNS localhost (EC P-256),
// valid for a day.
class Certificate {
 public:
  Certificate() {
    key_ = EVP_EC_gen("P-256");
    x509_ = X509_new();
    X509_set_version(x509_, 2);
    static int serial = 1;
    ASN1_INTEGER_set(X509_get_serialNumber(x509_), serial++);
    X509_gmtime_adj(X509_getm_notBefore(x509_), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x509_), 24 * 3600);
    X509_set_pubkey(x509_, key_);
    X509_NAME* name = X509_get_subject_name(x509_);
    X509_NAME_add_entry_by_txt(
        name, "CN", MBSTRING_ASC,
        reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(x509_, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x509_, x509_, nullptr, nullptr, 0);
    for (const auto& [nid, value] : std::vector<std::pair<int, const char*>>{
             {NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost"},
             {NID_basic_constraints, "critical,CA:TRUE"}}) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
      X509_add_ext(x509_, ext, -1);
      X509_EXTENSION_free(ext);
    }
    X509_sign(x509_, key_, EVP_sha256());
  }
  ~Certificate() {
    X509_free(x509_);
    EVP_PKEY_free(key_);
  }
  Certificate(const Certificate&) = delete;
  Certificate& operator=(const Certificate&) = delete;

  X509* x509() const { return x509_; }
  EVP_PKEY* key() const { return key_; }

  // Writes the certificate as PEM (for ClientOptions::remote.ca_file, or a
  // server's certificate file).
  bool WritePem(const std::string& path) const {
    return WriteFile(path,
                     [this](FILE* f) { return PEM_write_X509(f, x509_) == 1; });
  }

  // Writes the private key as unencrypted PEM (a server's key file).
  bool WriteKeyPem(const std::string& path) const {
    return WriteFile(path, [this](FILE* f) {
      return PEM_write_PrivateKey(f, key_, nullptr, nullptr, 0, nullptr,
                                  nullptr) == 1;
    });
  }

 private:
  template <typename Write>
  static bool WriteFile(const std::string& path, Write write) {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) return false;
    const bool written = write(f);
    return std::fclose(f) == 0 && written;
  }

  EVP_PKEY* key_ = nullptr;
  X509* x509_ = nullptr;
};

}  // namespace testing_support
}  // namespace hotfix

#endif  // HOTFIX_TESTS_SUPPORT_CERTIFICATE_H_
