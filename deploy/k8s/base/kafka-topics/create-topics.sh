#!/usr/bin/env bash
# Creates every topic of the platform (ykt_contracts.topics.all_topics()) and (re)applies its
# retention; safe to run again. Runs in the apache/kafka image: the compose `kafka-init` job and
# the Kubernetes Job `kafka-topics` both mount this one file. tests/deploy checks the list.
set -euo pipefail

: "${KAFKA_BOOTSTRAP_SERVERS:?}"
: "${TOPIC_PARTITIONS:?}"
: "${TOPIC_REPLICATION_FACTOR:?}"
: "${TOPIC_RETENTION_MS:?}"
: "${DEAD_LETTER_RETENTION_MS:?}"
TOPIC_MIN_INSYNC_REPLICAS="${TOPIC_MIN_INSYNC_REPLICAS:-1}"
KAFKA_BIN="${KAFKA_BIN:-/opt/kafka/bin}"

EVENT_TOPICS=(
  ykt.batch.submitted
  ykt.batch.validated
  ykt.batch.sent
  ykt.batch.approved
  ykt.batch.returned
  ykt.batch.funded
  ykt.payment.instructed
  ykt.payment.settled
  ykt.payment.failed
  ykt.batch.completed
  ykt.disclosure.published
)
DEAD_LETTER_TOPIC=ykt.dead-letter

ensure_topic() {
  local topic="$1" retention_ms="$2"
  "${KAFKA_BIN}/kafka-topics.sh" --bootstrap-server "${KAFKA_BOOTSTRAP_SERVERS}" \
    --create --if-not-exists --topic "${topic}" \
    --partitions "${TOPIC_PARTITIONS}" --replication-factor "${TOPIC_REPLICATION_FACTOR}"
  "${KAFKA_BIN}/kafka-configs.sh" --bootstrap-server "${KAFKA_BOOTSTRAP_SERVERS}" \
    --alter --entity-type topics --entity-name "${topic}" \
    --add-config "retention.ms=${retention_ms},min.insync.replicas=${TOPIC_MIN_INSYNC_REPLICAS}"
}

for topic in "${EVENT_TOPICS[@]}"; do
  ensure_topic "${topic}" "${TOPIC_RETENTION_MS}"
done
ensure_topic "${DEAD_LETTER_TOPIC}" "${DEAD_LETTER_RETENTION_MS}"

echo "topics ready: ${EVENT_TOPICS[*]} ${DEAD_LETTER_TOPIC}"
