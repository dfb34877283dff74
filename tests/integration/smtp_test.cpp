// The SMTP adapter against a real SMTP server on loopback (the sink of
// tests/contact, Node's smtp-server): STARTTLS with the certificate checked,
// AUTH PLAIN, the message's headers and body as sent, a refused recipient,
// and the next e-mail provider when the server is away (issue 24).

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/shop.hpp"
#include "support/smtp_sink.hpp"
#include "support/test_certificate.hpp"

using namespace kassa::test;
using json = nlohmann::json;

namespace {

std::string posted_id(shop& s, const json& body) {
  auto r = s.post("/v1/messages", body);
  INFO(r.body);
  REQUIRE(r.status == 202);
  return json::parse(r.body)["id"];
}

} // namespace

TEST_CASE("an e-mail reaches the SMTP server over STARTTLS and AUTH with its "
          "headers and body",
          "[smtp]") {
  test_certificate tls;
  smtp_sink sink{{tls.cert(), tls.key(), "kassa", "s3cret", "bad.example"}};
  shop s{{"KASSA_SMTP_HOST=localhost",
          "KASSA_SMTP_PORT=" + std::to_string(sink.port),
          "KASSA_SMTP_USERNAME=kassa", "KASSA_SMTP_PASSWORD=s3cret",
          "KASSA_SMTP_FROM=shop@example.test", "KASSA_SMTP_HELO=kassa.test",
          "KASSA_PROVIDERS_CA_FILE=" + tls.cert(), "KASSA_CONTACT_EMAIL=smtp"}};
  auto id = posted_id(
    s,
    {{"id", "conf-1"},
     {"channel", "email"},
     {"to", "c1@example.test"},
     {"template", "order_confirmation"},
     {"locale", "hu"},
     {"vars", {{"order", "ord_5"}, {"total", "15.00"}, {"currency", "HUF"}}}});
  auto m = message_settled(s, id);
  INFO(m.dump());
  CHECK(m["status"] == "sent");
  CHECK(m["provider"] == "smtp");
  CHECK(m["provider_ref"] == "<conf-1@kassa.test>");
  auto got = sink.received();
  REQUIRE(got.size() == 1);
  auto& mail = got[0];
  CHECK(mail["id"] == "conf-1");
  CHECK(mail["from"] == "shop@example.test");
  CHECK(mail["to"] == json::array({"c1@example.test"}));
  CHECK(mail["user"] == "kassa"); // AUTH PLAIN took
  CHECK(mail["secure"] == true);  // after STARTTLS
  std::string data = mail["data"];
  CHECK(data.find("From: shop@example.test\r\n") != std::string::npos);
  CHECK(data.find("To: c1@example.test\r\n") != std::string::npos);
  // "Rendelésed (ord_5) visszaigazoltuk", RFC 2047 encoded.
  CHECK(data.find(
          "Subject: "
          "=?UTF-8?B?UmVuZGVsw6lzZWQgKG9yZF81KSB2aXNzemFpZ2F6b2x0dWs=?=\r\n")
        != std::string::npos);
  CHECK(data.find("Message-ID: <conf-1@kassa.test>\r\n") != std::string::npos);
  CHECK(data.find("Content-Type: text/plain; charset=UTF-8\r\n")
        != std::string::npos);
  CHECK(data.find("\r\n\r\nKöszönjük a rendelésed!\r\n\r\nRendelés: ord_5\r\n"
                  "Végösszeg: 15.00 HUF\r\n")
        != std::string::npos);
  // A line that starts with a dot arrives as written (stuffed, unstuffed).
  auto dotted = posted_id(s, {{"channel", "email"},
                              {"to", "c2@example.test"},
                              {"subject", "Dots"},
                              {"body", ".hidden\n..two\nend"}});
  CHECK(message_settled(s, dotted)["status"] == "sent");
  got = sink.received();
  REQUIRE(got.size() == 2);
  std::string second = got[1]["data"];
  CHECK(second.substr(second.find("\r\n\r\n") + 4)
        == ".hidden\r\n..two\r\nend\r\n");
  // A recipient the server refuses for good: failed, with its answer.
  auto refused = posted_id(s, {{"channel", "email"},
                               {"to", "nobody@bad.example"},
                               {"subject", "x"},
                               {"body", "x"}});
  auto r = message_settled(s, refused);
  CHECK(r["status"] == "failed");
  CHECK(r["error"].get<std::string>().find("550") != std::string::npos);
  CHECK(sink.received().size() == 2);
}

TEST_CASE("an SMTP server that does not offer STARTTLS is refused", "[smtp]") {
  smtp_sink sink; // no certificate: no STARTTLS
  shop s{{"KASSA_SMTP_HOST=127.0.0.1",
          "KASSA_SMTP_PORT=" + std::to_string(sink.port),
          "KASSA_CONTACT_EMAIL=smtp,sandbox-messaging"}};
  auto id = posted_id(s, {{"channel", "email"},
                          {"to", "c1@example.test"},
                          {"about", "t-nostarttls"},
                          {"subject", "Hi"},
                          {"body", "Hi"}});
  auto m = message_settled(s, id);
  INFO(m.dump());
  // Nothing went to the server in the clear: the next provider sent it.
  CHECK(m["status"] == "sent");
  CHECK(m["provider"] == "sandbox-messaging");
  CHECK(m["attempts"][0]["provider"] == "smtp");
  CHECK(m["attempts"][0]["error"].get<std::string>().find("STARTTLS")
        != std::string::npos);
  CHECK(sink.received().empty());
}

TEST_CASE("the SMTP server away: the e-mail goes by the next provider, once",
          "[smtp]") {
  auto closed = free_port(); // nothing listens there
  shop s{{"KASSA_SMTP_HOST=127.0.0.1",
          "KASSA_SMTP_PORT=" + std::to_string(closed), "KASSA_SMTP_TLS=none",
          "KASSA_CONTACT_EMAIL=smtp,sandbox-messaging"}};
  auto id = posted_id(s, {{"channel", "email"},
                          {"to", "c1@example.test"},
                          {"about", "t-smtp-away"},
                          {"subject", "Hi"},
                          {"body", "Hi"}});
  auto m = message_settled(s, id);
  INFO(m.dump());
  CHECK(m["status"] == "sent");
  CHECK(m["provider"] == "sandbox-messaging");
  CHECK(m["attempts"][0]["outcome"] == "transient");
  CHECK(s.ledger("sandbox-messaging")["t-smtp-away"]["message"] == 1);
}
