#include <catch2/catch.hpp>

#include "adapters/http/customer_token.hpp"

using namespace kassa;

TEST_CASE("HMAC-SHA256 matches RFC 4231 test case 2", "[token]") {
  CHECK(hmac_sha256_hex("Jefe", "what do ya want for nothing?")
        == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("customer tokens verify, expire and resist tampering", "[token]") {
  auto token = make_customer_token("secret", "cust.42", 2000);
  CHECK(verify_customer_token("secret", token, 1000) == "cust.42");
  CHECK(verify_customer_token("secret", token, 2000) == "cust.42");
  CHECK_FALSE(verify_customer_token("secret", token, 2001)); // expired
  CHECK_FALSE(verify_customer_token("other", token, 1000));  // wrong key
  CHECK_FALSE(verify_customer_token("", token, 1000));       // disabled
  // Another customer or expiry with the old signature.
  auto forged = make_customer_token("secret", "cust.43", 2000);
  auto sig = token.substr(token.rfind('.'));
  CHECK_FALSE(verify_customer_token(
    "secret", forged.substr(0, forged.rfind('.')) + sig, 1000));
  auto later = token;
  later.replace(later.find(".2000."), 6, ".9000.");
  CHECK_FALSE(verify_customer_token("secret", later, 1000));
  for (auto bad : {"", "ct1.", "ct1..1.ab", "ct2.6332.2000.00",
                   "ct1.zz.2000.00", "ct1.6332.x.00"})
    CHECK_FALSE(verify_customer_token("secret", bad, 1000));
}
