#include <catch2/catch.hpp>

#include "adapters/postgres/helpdesk_queries.hpp"

using namespace kassa;

TEST_CASE("an inbound e-mail names its ticket in the subject or by the "
          "reply it answers",
          "[helpdesk]") {
  using pg::ticket_of_inbound;
  CHECK(ticket_of_inbound("Re: Broken mug [tk_0123456789abcdef]", "")
        == "tk_0123456789abcdef");
  CHECK(ticket_of_inbound("Re: x", "<tk_0123456789abcdef=3Areply=3A2@kassa>")
        == "tk_0123456789abcdef");
  // Not quite an id: too short, unclosed, not hex.
  CHECK_FALSE(ticket_of_inbound("Re: [tk_0123]", ""));
  CHECK_FALSE(ticket_of_inbound("Re: [tk_0123456789abcdef", ""));
  CHECK_FALSE(ticket_of_inbound("Re: [tk_0123456789abcdeg]", ""));
  CHECK_FALSE(ticket_of_inbound("Hello", "<abc@mail>"));
  // The first well-formed tag counts.
  CHECK(ticket_of_inbound("[tk_x] and [tk_fedcba9876543210]", "")
        == "tk_fedcba9876543210");
}
