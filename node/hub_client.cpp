#include "node/hub_client.hpp"

#include <caf/message.hpp>
#include <caf/send.hpp>

#include "adapters/type_ids.hpp"

namespace kassa {

namespace {

class caf_hub_client : public hub_client {
public:
  explicit caf_hub_client(caf::actor root) : root_(std::move(root)) {}

  void subscribe(uint64_t session, event_sink_ptr sink,
                 std::vector<std::string> topics, int64_t since) override {
    tell(caf::make_message(atom::subscribe::value, session, std::move(sink),
                           std::move(topics), since));
  }

  void unsubscribe(uint64_t session, std::vector<std::string> topics) override {
    tell(
      caf::make_message(atom::unsubscribe::value, session, std::move(topics)));
  }

  void leave(uint64_t session) override {
    tell(caf::make_message(atom::leave::value, session));
  }

private:
  void tell(caf::message msg) {
    caf::anon_send(root_, atom::tell::value, std::string{"notification_hub"},
                   std::move(msg));
  }

  caf::actor root_;
};

} // namespace

std::shared_ptr<hub_client> make_hub_client(caf::actor root) {
  return std::make_shared<caf_hub_client>(std::move(root));
}

} // namespace kassa
