#include "node/hub_client.hpp"

#include <caf/message.hpp>
#include <caf/send.hpp>

#include "adapters/type_ids.hpp"

namespace kassa {

namespace {

class caf_hub_client : public hub_client {
public:
  explicit caf_hub_client(child_handle<notification_hub_actor> hub)
    : hub_(std::move(hub)) {}

  void subscribe(uint64_t session, event_sink_ptr sink,
                 std::vector<std::string> topics, int64_t since) override {
    hub_.anon_send(atom::subscribe::value, session, std::move(sink),
                   std::move(topics), since);
  }

  void unsubscribe(uint64_t session, std::vector<std::string> topics) override {
    hub_.anon_send(atom::unsubscribe::value, session, std::move(topics));
  }

  void leave(uint64_t session) override {
    hub_.anon_send(atom::leave::value, session);
  }

private:
  child_handle<notification_hub_actor> hub_;
};

} // namespace

std::shared_ptr<hub_client>
make_hub_client(child_handle<notification_hub_actor> hub) {
  return std::make_shared<caf_hub_client>(std::move(hub));
}

} // namespace kassa
