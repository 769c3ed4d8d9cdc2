// QuickFIX C++ side of the codec comparison: the same three measurements as
// `copybridge bench codec`, on the same corpus and dictionary, printed as the same JSON line.
//
//   qf-bench --messages FILE --dictionary FILE [--iterations N]
//
// Each figure is nanoseconds per message, from the fastest batch of 20 passes over the corpus.
//
// parse           Message::setString with BodyLength/CheckSum verification (one reused Message).
//                 QuickFIX can parse with or without a dictionary; both are timed and the faster is
//                 reported, so the comparison never flatters CopyBridge.
// parse_validate  setString with the dictionary (groups parsed), then DataDictionary::validate.
// encode_nos      set the header and NewOrderSingle fields on one reused Message, then toString
//                 into one reused std::string.
//
// Build: g++ -O2 -std=c++11 -Wno-deprecated qf-bench.cpp -o qf-bench -lquickfix -lpthread
#include <quickfix/DataDictionary.h>
#include <quickfix/FieldTypes.h>
#include <quickfix/Message.h>
#include <quickfix/fix44/NewOrderSingle.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace {

volatile long sink;

std::vector<std::string> loadCorpus(const std::string& path) {
  std::ifstream in(path.c_str());
  if (!in) {
    std::cerr << "cannot read " << path << "\n";
    std::exit(2);
  }
  std::vector<std::string> messages;
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line[line.size() - 1] == '\r' || line[line.size() - 1] == ' ')) line.erase(line.size() - 1);
    if (line.empty() || line[0] == '#') continue;
    for (std::string::size_type i = 0; i < line.size(); ++i)
      if (line[i] == '|') line[i] = '\x01';
    messages.push_back(line);
  }
  return messages;
}

const int kBatchSize = 20;

// Nanoseconds per call of body: the fastest batch of kBatchSize calls, after one untimed call.
// Other work on the machine only ever adds time, so the fastest batch is the best estimate of
// the code's own cost; short batches are likely to run uninterrupted.
template <typename Body>
double timeIt(int iterations, Body body) {
  body();  // warm-up
  int perBatch = iterations < kBatchSize ? iterations : kBatchSize;
  int batches = iterations / perBatch;
  double best = 1e300;
  for (int b = 0; b < batches; ++b) {
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < perBatch; ++i) body();
    auto end = std::chrono::steady_clock::now();
    double ns = std::chrono::duration<double, std::nano>(end - start).count() / perBatch;
    if (ns < best) best = ns;
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  std::string messagesPath, dictionaryPath;
  int iterations = 20000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string key = argv[i];
    if (key == "--messages") messagesPath = argv[i + 1];
    else if (key == "--dictionary") dictionaryPath = argv[i + 1];
    else if (key == "--iterations") iterations = std::atoi(argv[i + 1]);
    else {
      std::cerr << "unknown option " << key << "\n";
      return 2;
    }
  }
  if (messagesPath.empty() || dictionaryPath.empty() || iterations <= 0) {
    std::cerr << "usage: qf-bench --messages FILE --dictionary FILE [--iterations N]\n";
    return 2;
  }

  std::vector<std::string> corpus = loadCorpus(messagesPath);
  if (corpus.empty()) {
    std::cerr << "the corpus holds no messages\n";
    return 2;
  }
  FIX::DataDictionary dictionary(dictionaryPath);

  // Every message must parse and validate, as on the Swift side.
  for (std::size_t i = 0; i < corpus.size(); ++i) {
    try {
      FIX::Message m;
      m.setString(corpus[i], true, &dictionary, &dictionary);
      dictionary.validate(m);
    } catch (std::exception& e) {
      std::cerr << "corpus message " << (i + 1) << " is not valid for QuickFIX: " << e.what() << "\n";
      return 1;
    }
  }

  const double count = double(corpus.size());
  FIX::Message message;

  double parsePlain = timeIt(iterations, [&]() {
    long n = 0;
    for (const std::string& s : corpus) {
      message.setString(s, true, 0);
      n += long(message.totalFields());
    }
    sink = sink + n;
  });
  double parseWithDictionary = timeIt(iterations, [&]() {
    long n = 0;
    for (const std::string& s : corpus) {
      message.setString(s, true, &dictionary, &dictionary);
      n += long(message.totalFields());
    }
    sink = sink + n;
  });
  double parse = parsePlain < parseWithDictionary ? parsePlain : parseWithDictionary;

  double parseValidate = timeIt(iterations, [&]() {
    long n = 0;
    for (const std::string& s : corpus) {
      message.setString(s, true, &dictionary, &dictionary);
      dictionary.validate(message);
      n += long(message.totalFields());
    }
    sink = sink + n;
  });

  FIX44::NewOrderSingle order;
  std::string out;
  out.reserve(512);
  int seq = 1;
  // 2026-11-26 09:30:00.123 UTC, advanced by a millisecond per order like the Swift side.
  const time_t base = 1795685400;
  const std::size_t perPass = corpus.size();
  double encode = timeIt(iterations, [&]() {
    long n = 0;
    for (std::size_t k = 0; k < perPass; ++k) {
      ++seq;
      long millis = 123 + seq;
      FIX::UtcTimeStamp now(base + millis / 1000, int(millis % 1000));
      FIX::Header& header = order.getHeader();
      header.setField(FIX::MsgSeqNum(seq));
      header.setField(FIX::SenderCompID("COPYBRIDGE"));
      header.setField(FIX::SendingTime(now, 3));
      header.setField(FIX::TargetCompID("BROKER"));
      order.setField(FIX::Account("FOLLOWER-0042"));
      order.setField(FIX::ClOrdID("CB-7F3A-0001-1"));
      order.setField(FIX::Side(FIX::Side_BUY));
      order.setField(FIX::Symbol("EUR/USD"));
      order.setField(FIX::OrderQty(1250.0));
      order.setField(FIX::OrdType(FIX::OrdType_MARKET));
      order.setField(FIX::TimeInForce(FIX::TimeInForce_IMMEDIATE_OR_CANCEL));
      order.setField(FIX::TransactTime(now, 3));
      order.toString(out);
      n += long(out.size());
    }
    sink = sink + n;
  });

  std::printf(
      "{\"messages\":%zu,\"iterations\":%d,\"parse_ns\":%.1f,\"parse_validate_ns\":%.1f,\"encode_nos_ns\":%.1f}\n",
      corpus.size(), iterations, parse / count, parseValidate / count, encode / count);
  return 0;
}
