package io.ferryhub.hub.service.registry;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;

import java.util.Locale;

/**
 * One entry of a bulk registry request ({@code POST /devices}): the device as sent, what to do with it and, for the
 * {@code IfMatchETag} modes, the etag it must have.
 */
public record BulkOperation(String deviceId, Mode mode, String etag, Device device) {
    /** IoT Hub's {@code importMode} values. */
    public enum Mode {
        CREATE("create"),
        CREATE_OR_UPDATE("createOrUpdate"),
        UPDATE("update"),
        UPDATE_IF_MATCH_ETAG("updateIfMatchETag"),
        DELETE("delete"),
        DELETE_IF_MATCH_ETAG("deleteIfMatchETag");

        private final String wireName;

        Mode(String wireName) {
            this.wireName = wireName;
        }

        /** Case-insensitive; a missing mode is {@code createOrUpdate}, IoT Hub's default. */
        public static Mode parse(String value) {
            if (value == null || value.isEmpty()) {
                return CREATE_OR_UPDATE;
            }
            for (Mode m : values()) {
                if (m.wireName.toLowerCase(Locale.ROOT).equals(value.toLowerCase(Locale.ROOT))) {
                    return m;
                }
            }
            throw new HubException(HubErrorCode.ArgumentInvalid, "importMode '" + value + "' is not one of create, "
                    + "createOrUpdate, update, updateIfMatchETag, delete, deleteIfMatchETag");
        }

        boolean deletes() {
            return this == DELETE || this == DELETE_IF_MATCH_ETAG;
        }
    }

    /** The failure of one entry, reported while the others go ahead. */
    public record Failure(String deviceId, HubErrorCode errorCode, String message) {
    }
}
