/**
 * The Docker path of the test harness (`BLACKWELL_TEST_CONTAINERS=1`): the
 * same Kafka and registry versions as the no-Docker default, in containers.
 * Loaded only on that path, so the default run needs no Docker at all.
 */
import { freePort } from "../../src/infra/free-port.js";

export interface StartedInfra {
  brokers: string;
  registryUrl: string;
  awsEndpoint: string;
  stop: () => Promise<void>;
}

export async function startContainers(): Promise<StartedInfra> {
  const { GenericContainer, Wait } = await import("testcontainers");
  // The broker advertises the host port, so map it one-to-one.
  const port = await freePort();
  const kafka = await new GenericContainer("apache/kafka:4.1.1")
    .withExposedPorts({ container: port, host: port })
    .withEnvironment({
      KAFKA_NODE_ID: "1",
      KAFKA_PROCESS_ROLES: "broker,controller",
      KAFKA_LISTENERS: `PLAINTEXT://0.0.0.0:${port},CONTROLLER://localhost:9093`,
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${port}`,
      KAFKA_CONTROLLER_LISTENER_NAMES: "CONTROLLER",
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
      KAFKA_CONTROLLER_QUORUM_VOTERS: "1@localhost:9093",
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: "1",
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: "1",
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: "1",
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: "0",
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: "false",
    })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .start();
  const registry = await new GenericContainer("apicurio/apicurio-registry:3.0.9")
    .withExposedPorts(8080)
    .withWaitStrategy(Wait.forHttp("/apis/ccompat/v7/subjects", 8080))
    .start();
  const moto = await new GenericContainer("motoserver/moto:5.2.5")
    .withExposedPorts(5000)
    .withWaitStrategy(Wait.forHttp("/moto-api/data.json", 5000))
    .start();
  return {
    brokers: `127.0.0.1:${port}`,
    awsEndpoint: `http://${moto.getHost()}:${moto.getMappedPort(5000)}`,
    registryUrl: `http://${registry.getHost()}:${registry.getMappedPort(8080)}/apis/ccompat/v7`,
    stop: async () => {
      await moto.stop();
      await registry.stop();
      await kafka.stop();
    },
  };
}
