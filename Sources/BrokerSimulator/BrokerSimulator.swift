// BrokerSimulator module.
