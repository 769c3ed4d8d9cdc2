// A QuickFIX C++ peer for CopyBridge's interoperability tests.
//
// It runs one acceptor or initiator (from a QuickFIX settings file given as argv[1]) and plays a
// tiny broker: every NewOrderSingle is answered with an ExecutionReport New and then Filled.
// It reports what happens on stdout, one line per event, so a test can follow the conversation:
//   READY | LOGON <session> | LOGOUT <session> | APP <msg with | for SOH> | ADMIN <msg>
// Commands on stdin, one per line:
//   DISCONNECT         drop the TCP connection without a Logout
//   LOGOUT             log out
//   SEND <n> <prefix>  send n ExecutionReports (ExecType New) with ClOrdIDs <prefix>1..n
//   SETTARGET <n>      expect MsgSeqNum n next from the counterparty (a lower n makes QuickFIX ask for a resend)
//   SEQNUMS            report the next sequence numbers: SEQNUMS <next sender> <next target>
//   QUIT               stop and exit
// Every command is acknowledged with DONE <command> once it has been carried out.
// Written for these tests against the libquickfix-dev API; it shares no code with QuickFIX.
#include <quickfix/Application.h>
#include <quickfix/FileLog.h>
#include <quickfix/FileStore.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketAcceptor.h>
#include <quickfix/SocketInitiator.h>

#include <atomic>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>

namespace {

std::mutex outputLock;

void emit(const std::string& line) {
  std::lock_guard<std::mutex> guard(outputLock);
  std::cout << line << std::endl;
}

std::string piped(const FIX::Message& message) {
  std::string text = message.toString();
  for (auto& c : text) {
    if (c == '\x01') c = '|';
  }
  return text;
}

class Peer : public FIX::Application {
 public:
  FIX::SessionID current;
  std::atomic<int> execCounter{0};

  void onCreate(const FIX::SessionID& id) override { current = id; }
  void onLogon(const FIX::SessionID& id) override { emit("LOGON " + id.toString()); }
  void onLogout(const FIX::SessionID& id) override { emit("LOGOUT " + id.toString()); }
  void toAdmin(FIX::Message&, const FIX::SessionID&) override {}
  void toApp(FIX::Message&, const FIX::SessionID&) throw(FIX::DoNotSend) override {}
  void fromAdmin(const FIX::Message& message, const FIX::SessionID&) throw(
      FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue, FIX::RejectLogon) override {
    emit("ADMIN " + piped(message));
  }
  void fromApp(const FIX::Message& message, const FIX::SessionID& id) throw(
      FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue, FIX::UnsupportedMessageType) override {
    emit("APP " + piped(message));
    const std::string type = message.getHeader().getField(35);
    if (type != "D") return;
    const std::string clOrdID = message.getField(11);
    const std::string qty = message.getField(38);
    answer(id, clOrdID, message.getField(55), message.getField(54), qty, "0", "0", "0", qty);
    answer(id, clOrdID, message.getField(55), message.getField(54), qty, "F", "2", qty, "0");
  }

  void answer(const FIX::SessionID& id, const std::string& clOrdID, const std::string& symbol,
              const std::string& side, const std::string& qty, const std::string& execType,
              const std::string& ordStatus, const std::string& cumQty, const std::string& leavesQty) {
    FIX::Message report;
    report.getHeader().setField(35, "8");
    const int n = ++execCounter;
    report.setField(37, "QF-" + clOrdID);
    report.setField(11, clOrdID);
    report.setField(17, "QFX-" + std::to_string(n));
    report.setField(150, execType);
    report.setField(39, ordStatus);
    report.setField(55, symbol);
    report.setField(54, side);
    report.setField(38, qty);
    report.setField(14, cumQty);
    report.setField(151, leavesQty);
    report.setField(6, execType == "F" ? "1.2345" : "0");
    if (execType == "F") {
      report.setField(32, qty);
      report.setField(31, "1.2345");
    }
    FIX::Session::sendToTarget(report, id);
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: qf_peer SETTINGS" << std::endl;
    return 2;
  }
  try {
    FIX::SessionSettings settings(argv[1]);
    Peer peer;
    FIX::FileStoreFactory store(settings);
    FIX::FileLogFactory log(settings);
    const bool acceptor = settings.get().getString("ConnectionType") == "acceptor";
    std::unique_ptr<FIX::Acceptor> a;
    std::unique_ptr<FIX::Initiator> i;
    if (acceptor) {
      a.reset(new FIX::SocketAcceptor(peer, store, settings, log));
      a->start();
    } else {
      i.reset(new FIX::SocketInitiator(peer, store, settings, log));
      i->start();
    }
    emit("READY");
    std::string line;
    while (std::getline(std::cin, line)) {
      FIX::Session* session = FIX::Session::lookupSession(peer.current);
      std::istringstream words(line);
      std::string command;
      words >> command;
      if (command == "QUIT") break;
      if (!session) continue;
      if (command == "DISCONNECT") {
        session->disconnect();
      } else if (command == "LOGOUT") {
        session->logout("bye");
      } else if (command == "SETTARGET") {
        int next = 0;
        words >> next;
        session->setNextTargetMsgSeqNum(next);
      } else if (command == "SEQNUMS") {
        emit("SEQNUMS " + std::to_string(session->getExpectedSenderNum()) + " " +
             std::to_string(session->getExpectedTargetNum()));
      } else if (command == "SEND") {
        int count = 0;
        std::string prefix;
        words >> count >> prefix;
        for (int k = 1; k <= count; ++k) {
          peer.answer(peer.current, prefix + std::to_string(k), "EUR/USD", "1", "1000", "0", "0", "0", "1000");
        }
      }
      emit("DONE " + command);
    }
    if (a) a->stop();
    if (i) i->stop();
  } catch (std::exception& e) {
    std::cerr << "qf_peer: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
