/**
 * Consumer-group assigner that keeps co-partitioned topics together: a member
 * that gets partition p of one input topic gets partition p of all of them,
 * so one task sees every record of its clients. (KafkaJS's default round-robin
 * would scatter them.)
 */
import { AssignerProtocol, type Assigner, type Cluster } from "kafkajs";

export const CO_PARTITIONED = "blackwell-co-partitioned";

export function coPartitionedAssigner({ cluster }: { cluster: Cluster }): Assigner {
  return {
    name: CO_PARTITIONED,
    version: 1,
    async assign({ members, topics }) {
      const counts = topics.map((topic) => cluster.findTopicPartitionMetadata(topic).length);
      const partitions = Math.max(0, ...counts);
      const memberIds = members.map((m) => m.memberId).sort();
      const plan = new Map<string, Record<string, number[]>>(memberIds.map((id) => [id, {}]));
      for (let p = 0; p < partitions; p++) {
        const owner = plan.get(memberIds[p % memberIds.length]!)!;
        topics.forEach((topic, i) => {
          if (p < counts[i]!) (owner[topic] ??= []).push(p);
        });
      }
      return memberIds.map((memberId) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: plan.get(memberId)!,
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return {
        name: CO_PARTITIONED,
        metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }),
      };
    },
  };
}
