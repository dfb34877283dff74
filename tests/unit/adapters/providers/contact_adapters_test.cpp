#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/contact_logic.hpp"
#include "adapters/http/client.hpp"
#include "adapters/providers/smtp.hpp"
#include "adapters/providers/twilio.hpp"

using namespace kassa;

namespace {

provider_call message_call(std::string channel, std::string to,
                           std::string body) {
  outbound_message m{
    "msg_1", std::move(channel), std::move(to), "Hello", std::move(body), "", 0,
    {}};
  return contact_call(m, 1);
}

std::string header_of(const std::string& text, const std::string& name) {
  auto at = text.find("\r\n" + name + ": ");
  if (text.rfind(name + ": ", 0) == 0)
    at = 0;
  else if (at == std::string::npos)
    return {};
  else
    at += 2;
  auto start = at + name.size() + 2;
  return text.substr(start, text.find("\r\n", start) - start);
}

} // namespace

TEST_CASE("SMTP replies are read whole, one or many lines", "[smtp]") {
  size_t used = 0;
  CHECK_FALSE(parse_smtp_reply("250-first\r\n250-sec", used));
  auto r
    = parse_smtp_reply("250-mx.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n"
                       "354 go",
                       used);
  REQUIRE(r);
  CHECK(r->code == 250);
  CHECK(r->text == "mx.example\nPIPELINING\n8BITMIME");
  CHECK(used == 46);
  r = parse_smtp_reply("550\r\n", used);
  REQUIRE(r);
  CHECK(r->code == 550);
  r = parse_smtp_reply("HTTP/1.1 400\r\n", used);
  REQUIRE(r);
  CHECK(r->code == 0); // not an SMTP server
}

TEST_CASE("an e-mail's text: headers, CRLF, dot-stuffing, encodings",
          "[smtp]") {
  smtp_mail mail{"ord_1:notify_customer", "c1@example.test",
                 "Rendelésed visszaigazoltuk",
                 "Line one\n.hidden dot\r\nÁrvíztűrő\n"};
  auto now = std::chrono::system_clock::time_point{} + std::chrono::hours{24};
  auto text
    = smtp_message_text(mail, "shop@example.test", "kassa.test", true, now);
  CHECK(header_of(text, "From") == "shop@example.test");
  CHECK(header_of(text, "To") == "c1@example.test");
  CHECK(header_of(text, "Subject")
        == "=?UTF-8?B?" + base64_encode("Rendelésed visszaigazoltuk") + "?=");
  CHECK(header_of(text, "Date") == "Fri, 02 Jan 1970 00:00:00 +0000");
  CHECK(header_of(text, "Message-ID")
        == "<ord_1=3Anotify_customer@kassa.test>");
  CHECK(header_of(text, "X-Kassa-Message-Id") == "ord_1:notify_customer");
  CHECK(header_of(text, "Content-Transfer-Encoding") == "8bit");
  auto body = text.substr(text.find("\r\n\r\n") + 4);
  CHECK(body == "Line one\r\n..hidden dot\r\nÁrvíztűrő\r\n");
  // A server without 8BITMIME gets base64.
  text = smtp_message_text(mail, "shop@example.test", "kassa.test", false, now);
  CHECK(header_of(text, "Content-Transfer-Encoding") == "base64");
  CHECK(text.find(base64_encode(mail.body).substr(0, 76)) != std::string::npos);
  // A line break in a subject cannot start a header of its own.
  mail.subject = "Hi\r\nBcc: x@evil.test";
  mail.body = "plain";
  text = smtp_message_text(mail, "a@b.test", "h", true, now);
  CHECK(header_of(text, "Subject") == "Hi  Bcc: x@evil.test");
  CHECK(header_of(text, "Bcc").empty());
  CHECK(header_of(text, "Content-Transfer-Encoding") == "7bit");
}

TEST_CASE("Twilio: an SMS and a call as the API 2010-04-01 takes them",
          "[twilio]") {
  twilio_settings s{"AC00000000000000000000000000000001", "token",
                    "+15005550006", "https://shop.example/v1/webhooks/twilio"};
  std::string why;
  auto sms
    = twilio_request(message_call("sms", "+36201234567", "Hi & bye"), s, why);
  CHECK(sms.method == "POST");
  CHECK(sms.target
        == "/2010-04-01/Accounts/AC00000000000000000000000000000001/"
           "Messages.json");
  CHECK(sms.content_type == "application/x-www-form-urlencoded");
  CHECK(
    sms.body
    == "To=%2B36201234567&From=%2B15005550006&Body=Hi%20%26%20bye&"
       "StatusCallback=https%3A%2F%2Fshop.example%2Fv1%2Fwebhooks%2Ftwilio");
  CHECK(sms.headers.at(0).second
        == "Basic " + base64_encode(s.account_sid + ":token"));
  auto call
    = twilio_request(message_call("voice", "+36201234567", "<Hi>"), s, why);
  CHECK(call.target.find("/Calls.json") != std::string::npos);
  auto form = parse_form(call.body);
  CHECK(form.at(2)
        == std::pair<std::string, std::string>{
          "Twiml", "<Response><Say>&lt;Hi&gt;</Say></Response>"});
  CHECK(twilio_request(message_call("email", "a@b.test", "x"), s, why)
          .target.empty());
  CHECK(why == "twilio: sends sms and voice messages only");
}

TEST_CASE("Twilio's answers", "[twilio]") {
  auto call = message_call("sms", "+36201234567", "x");
  auto answer = [](int status, std::string body) {
    http_outcome o;
    o.status = status;
    o.body = std::move(body);
    return o;
  };
  auto r
    = twilio_result(call, answer(201, R"({"sid":"SM123","status":"queued"})"));
  CHECK(r.outcome == provider_outcome::ok);
  CHECK(r.ref == "SM123");
  r = twilio_result(
    call,
    answer(400, R"({"code":21211,"message":"Invalid 'To' Phone Number"})"));
  CHECK(r.outcome == provider_outcome::permanent);
  CHECK(r.error == "twilio 400: 21211 Invalid 'To' Phone Number");
  CHECK(twilio_result(call, answer(429, "{}")).outcome
        == provider_outcome::transient);
  r = twilio_result(call, answer(500, "{}"));
  CHECK(r.outcome == provider_outcome::unknown); // it may have been created
  CHECK(r.maybe_sent);
  CHECK(twilio_result(call, answer(201, "{}")).outcome
        == provider_outcome::unknown);
}

TEST_CASE("Twilio's signature of a callback: the published vector",
          "[twilio]") {
  // twilio-php's RequestValidatorTest (and Twilio's security docs).
  std::vector<std::pair<std::string, std::string>> params{
    {"CallSid", "CA1234567890ABCDE"},
    {"Caller", "+14158675309"},
    {"Digits", "1234"},
    {"From", "+14158675309"},
    {"To", "+18005551212"}};
  CHECK(twilio_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2",
                         params)
        == "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
  std::swap(params[0], params[4]); // order does not matter
  CHECK(twilio_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2",
                         params)
        == "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
  CHECK(parse_form("To=%2B1800&Body=a+b%21&empty=&flag")
        == std::vector<std::pair<std::string, std::string>>{
          {"To", "+1800"}, {"Body", "a b!"}, {"empty", ""}, {"flag", ""}});
  CHECK(twilio_final_status("delivered") == "delivered");
  CHECK(twilio_final_status("undelivered") == "failed");
  CHECK(twilio_final_status("no-answer") == "failed");
  CHECK_FALSE(twilio_final_status("sent"));
}
