package io.ferryhub.signaling;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.json.Json;

import java.time.Instant;
import java.util.Locale;

/**
 * Something the hub decided that open streams must follow: an identity was disabled, deleted or re-keyed (its
 * streams close, as its connections are cut), or its stream policy changed (its streams and tunnel channels are
 * judged again). The hub hands these to its embedded gateway and, numbered, to stand-alone gateways over its
 * revocation feed.
 *
 * @param sequence the feed's number for it (1, 2, ...; 0 when not numbered)
 * @param moduleId null for the device: a device's revocation covers its modules' streams too (as cutting a device
 *                 cuts its modules' connections), a policy change only the device's own streams
 * @param policy   the identity's new stream policy for {@link Reason#POLICY_CHANGED}; null when it has none now
 * @param spare    streams it does not close although they are the identity's: after a re-key, those whose device
 *                 side connected with a credential that still holds (the hub knows which it handed the request to)
 * @param issued   streams of the identity the hub recently issued tokens for and does not spare: their tokens are
 *                 refused from now on, so a stream whose ends had not connected yet cannot open after all
 * @param initiator for {@link Reason#INITIATOR_KEY_REVOKED}: the shared access policy whose keys
 *                 {@code initiatorKeys} (ids, see {@link StreamToken#initiatorKey}) stopped holding; the streams they
 *                 asked for close, whatever their device, and their tokens are refused from now on. {@code deviceId}
 *                 is null then.
 */
public record StreamRevocation(long sequence, Reason reason, String deviceId, String moduleId, StreamPolicy policy,
                               Instant at, java.util.Set<String> spare, java.util.Set<String> issued,
                               String initiator, java.util.Set<String> initiatorKeys) {
    public StreamRevocation {
        spare = spare == null ? java.util.Set.of() : java.util.Set.copyOf(spare);
        issued = issued == null ? java.util.Set.of() : java.util.Set.copyOf(issued);
        initiatorKeys = initiatorKeys == null ? java.util.Set.of() : java.util.Set.copyOf(initiatorKeys);
    }

    public StreamRevocation(long sequence, Reason reason, String deviceId, String moduleId, StreamPolicy policy,
                            Instant at, java.util.Set<String> spare, java.util.Set<String> issued) {
        this(sequence, reason, deviceId, moduleId, policy, at, spare, issued, null, null);
    }

    /** The streams the policy's keys {@code keyIds} asked for close, and their tokens are refused. */
    public static StreamRevocation initiatorKeys(long sequence, String policyName, java.util.Set<String> keyIds,
                                                 Instant at) {
        return new StreamRevocation(sequence, Reason.INITIATOR_KEY_REVOKED, null, null, null, at, null, null,
                policyName, keyIds);
    }

    public StreamRevocation(long sequence, Reason reason, String deviceId, String moduleId, StreamPolicy policy,
                            Instant at) {
        this(sequence, reason, deviceId, moduleId, policy, at, null, null);
    }

    public enum Reason {
        DISABLED("the device was disabled"),
        DELETED("the identity was deleted"),
        REKEYED("the identity's credentials changed"),
        POLICY_CHANGED("the stream policy changed"),
        INITIATOR_KEY_REVOKED("the initiating shared access policy's key no longer holds");

        private final String description;

        Reason(String description) {
            this.description = description;
        }

        /** For logs, audit events and close frames. */
        public String description() {
            return description;
        }

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Reason ofLabel(String label) {
            return valueOf(label.toUpperCase(Locale.ROOT));
        }
    }

    /** The same revocation with the feed's number. */
    public StreamRevocation numbered(long number) {
        return new StreamRevocation(number, reason, deviceId, moduleId, policy, at, spare, issued, initiator,
                initiatorKeys);
    }

    /** Whether the stream {@code token} opens (or opened) must follow it. */
    public boolean covers(StreamToken token) {
        if (reason == Reason.INITIATOR_KEY_REVOKED) {
            // a token from before tokens named their key: its key cannot be told, so it goes too
            return initiator.equals(token.initiator())
                    && (token.initiatorKey() == null || initiatorKeys.contains(token.initiatorKey()));
        }
        return covers(token.streamId(), token.deviceId(), token.moduleId());
    }

    /** Whether stream {@code streamId} of this identity must follow it. */
    public boolean covers(String streamId, String streamDeviceId, String streamModuleId) {
        return !spare.contains(streamId) && covers(streamDeviceId, streamModuleId);
    }

    /** Whether a stream of this identity must follow it (unless spared by id). */
    public boolean covers(String streamDeviceId, String streamModuleId) {
        if (deviceId == null || !deviceId.equals(streamDeviceId)) {
            return false;
        }
        if (moduleId == null) {
            return reason != Reason.POLICY_CHANGED || streamModuleId == null;
        }
        return moduleId.equals(streamModuleId);
    }

    /** What it is about, for logs: an identity, or the initiating policy. */
    public String identity() {
        if (reason == Reason.INITIATOR_KEY_REVOKED) {
            return "streams initiated by policy " + initiator;
        }
        return moduleId == null ? deviceId : deviceId + "/" + moduleId;
    }

    public ObjectNode toJson() {
        ObjectNode o = Json.object().put("seq", sequence).put("reason", reason.label()).put("at", at.toString());
        if (deviceId != null) {
            o.put("deviceId", deviceId);
        }
        if (initiator != null) {
            o.put("initiator", initiator);
            initiatorKeys.stream().sorted().forEach(o.putArray("initiatorKeys")::add);
        }
        if (moduleId != null) {
            o.put("moduleId", moduleId);
        }
        if (policy != null) {
            o.set("policy", policy.toJson());
        }
        if (!spare.isEmpty()) {
            spare.stream().sorted().forEach(o.putArray("spare")::add);
        }
        if (!issued.isEmpty()) {
            issued.stream().sorted().forEach(o.putArray("issued")::add);
        }
        return o;
    }

    /** @throws IllegalArgumentException if it is not a revocation */
    public static StreamRevocation fromJson(JsonNode o) {
        if (!o.path("reason").isTextual()) {
            throw new IllegalArgumentException("not a stream revocation: " + o);
        }
        Reason reason = Reason.ofLabel(o.get("reason").asText());
        if (reason == Reason.INITIATOR_KEY_REVOKED ? !o.path("initiator").isTextual() : !o.path("deviceId").isTextual()) {
            throw new IllegalArgumentException("not a stream revocation: " + o);
        }
        return new StreamRevocation(o.path("seq").asLong(0), reason,
                o.hasNonNull("deviceId") ? o.get("deviceId").asText() : null,
                o.hasNonNull("moduleId") ? o.get("moduleId").asText() : null,
                o.hasNonNull("policy") ? StreamPolicy.fromJson(o.get("policy")) : null,
                o.hasNonNull("at") ? Instant.parse(o.get("at").asText()) : Instant.EPOCH, spareOf(o.path("spare")),
                spareOf(o.path("issued")), o.hasNonNull("initiator") ? o.get("initiator").asText() : null,
                spareOf(o.path("initiatorKeys")));
    }

    private static java.util.Set<String> spareOf(JsonNode array) {
        java.util.Set<String> out = new java.util.HashSet<>();
        array.forEach(id -> out.add(id.asText()));
        return out;
    }
}
