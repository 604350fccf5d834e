package io.ferryhub.hub.service.twin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.json.Json;

/**
 * A twin as it is stored: the parts the twin owns (tags, desired and reported properties with their metadata
 * trees and versions). Identity fields (status, connection state...) are not stored here: they come from the
 * registry when the twin is read. {@code generationId} ties the twin to one generation of its identity, so a
 * twin left behind by a deleted identity is never shown for a new one with the same id.
 *
 * @param version the twin's version: +1 on every change of tags, desired or reported
 */
public record TwinRecord(String generationId, long version, ObjectNode tags, ObjectNode desired,
                         ObjectNode desiredMetadata, long desiredVersion, ObjectNode reported,
                         ObjectNode reportedMetadata, long reportedVersion) {

    /** The twin of a newly created identity: empty sections, every version 1, as IoT Hub shows it. */
    public static TwinRecord initial(String generationId, String now) {
        ObjectNode desiredMeta = Json.object().put(TwinDocuments.LAST_UPDATED, now);
        ObjectNode reportedMeta = Json.object().put(TwinDocuments.LAST_UPDATED, now);
        return new TwinRecord(generationId, 1, Json.object(), Json.object(), desiredMeta, 1, Json.object(),
                reportedMeta, 1);
    }

    /** A deep copy, for changes that must not be seen until they are stored. */
    public TwinRecord copy() {
        return new TwinRecord(generationId, version, tags.deepCopy(), desired.deepCopy(), desiredMetadata.deepCopy(),
                desiredVersion, reported.deepCopy(), reportedMetadata.deepCopy(), reportedVersion);
    }
}
