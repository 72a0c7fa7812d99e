/**
 * A local three-node Kafka cluster (KRaft, every node broker + controller,
 * replication 3, min.insync.replicas 2) for fault tests: kill one node and
 * processing must go on. Brokers only; the schema registry is separate.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { countBrokers } from "../adapters/kafka/probe.js";
import { freePort } from "./free-port.js";
import {
  ensureArtifacts,
  isAlive,
  kafkaAnswers,
  kafkaClusterId,
  kafkaJava,
  spawnDetached,
  stopPid,
  waitFor,
} from "./local-infra.js";

export interface ClusterNode {
  id: number;
  pid: number;
  port: number;
  controllerPort: number;
  log: string;
  props: string;
}

export interface LocalCluster {
  brokers: string[];
  nodes: ClusterNode[];
  dir: string;
  kill: (id: number, signal?: NodeJS.Signals) => Promise<void>;
  /** Starts a killed node again on its own data and waits until it has rejoined. */
  restart: (id: number) => Promise<void>;
  stop: () => Promise<void>;
}

export async function startLocalCluster(options: {
  root: string;
  dir: string;
  nodes?: number;
  log?: (m: string) => void;
  startTimeoutMs?: number;
}): Promise<LocalCluster> {
  const root = resolve(options.root);
  const dir = resolve(options.dir);
  const count = options.nodes ?? 3;
  await ensureArtifacts(root, options.log);
  const { java, classpath, jvmLog } = kafkaJava(root);
  const ports = await Promise.all(
    Array.from({ length: count }, async () => ({ port: await freePort(), controllerPort: await freePort() })),
  );
  const voters = ports.map((p, i) => `${i + 1}@127.0.0.1:${p.controllerPort}`).join(",");
  const clusterId = kafkaClusterId();
  const nodes: ClusterNode[] = [];
  const launch = (props: string, log: string) =>
    spawnDetached(
      java,
      [
        "-Xms128m",
        "-Xmx512m",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        jvmLog,
        "-cp",
        classpath,
        "kafka.Kafka",
        props,
      ],
      log,
      dir,
    );
  const timeoutMs = options.startTimeoutMs ?? 120_000;
  const answering = (n: ClusterNode) =>
    waitFor(`kafka node ${n.id}`, timeoutMs, n.pid, n.log, () => kafkaAnswers(`127.0.0.1:${n.port}`));
  for (const [i, p] of ports.entries()) {
    const id = i + 1;
    const nodeDir = join(dir, `node-${id}`);
    mkdirSync(join(nodeDir, "data"), { recursive: true });
    const props = join(nodeDir, "server.properties");
    writeFileSync(
      props,
      [
        "process.roles=broker,controller",
        `node.id=${id}`,
        `controller.quorum.voters=${voters}`,
        `listeners=PLAINTEXT://127.0.0.1:${p.port},CONTROLLER://127.0.0.1:${p.controllerPort}`,
        `advertised.listeners=PLAINTEXT://127.0.0.1:${p.port}`,
        "controller.listener.names=CONTROLLER",
        "inter.broker.listener.name=PLAINTEXT",
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        `log.dirs=${join(nodeDir, "data")}`,
        "num.partitions=6",
        "auto.create.topics.enable=false",
        "default.replication.factor=3",
        "min.insync.replicas=2",
        "offsets.topic.replication.factor=3",
        "offsets.topic.num.partitions=6",
        "transaction.state.log.replication.factor=3",
        "transaction.state.log.min.isr=2",
        "transaction.state.log.num.partitions=6",
        "share.coordinator.state.topic.replication.factor=3",
        "share.coordinator.state.topic.min.isr=2",
        "group.initial.rebalance.delay.ms=0",
        "log.segment.bytes=67108864",
      ].join("\n") + "\n",
    );
    const format = spawnSync(
      java,
      [jvmLog, "-cp", classpath, "kafka.tools.StorageTool", "format", "-t", clusterId, "-c", props],
      { encoding: "utf8" },
    );
    if (format.status !== 0) throw new Error(`formatting node ${id} failed: ${format.stderr || format.stdout}`);
    const log = join(nodeDir, "kafka.log");
    nodes.push({ id, pid: launch(props, log), port: p.port, controllerPort: p.controllerPort, log, props });
  }
  const cluster: LocalCluster = {
    brokers: nodes.map((n) => `127.0.0.1:${n.port}`),
    nodes,
    dir,
    kill: async (id, signal = "SIGKILL") => {
      const node = nodes.find((n) => n.id === id)!;
      if (signal === "SIGKILL") {
        try {
          process.kill(node.pid, "SIGKILL");
        } catch {
          /* already gone */
        }
      } else {
        await stopPid(node.pid, [dir], 30_000);
      }
    },
    restart: async (id) => {
      const node = nodes.find((n) => n.id === id)!;
      if (isAlive(node.pid)) return;
      node.pid = launch(node.props, node.log);
      await answering(node);
      await waitForMembers(cluster.brokers, count, timeoutMs);
    },
    stop: async () => {
      await Promise.all(nodes.map((n) => stopPid(n.pid, [dir], 30_000)));
    },
  };
  try {
    await Promise.all(nodes.map(answering));
    await waitForMembers(cluster.brokers, count, timeoutMs);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

/** Every node answering is not enough: topics created before all of them registered get fewer replicas or no leader. */
async function waitForMembers(brokers: string[], count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = await countBrokers(brokers, { retries: 2 }).catch(() => 0);
    if (seen >= count) return;
    if (Date.now() > deadline)
      throw new Error(`only ${seen} of ${count} kafka nodes registered within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 300));
  }
}
