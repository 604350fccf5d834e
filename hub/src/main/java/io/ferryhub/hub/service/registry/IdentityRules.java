package io.ferryhub.hub.service.registry;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/** IoT Hub's rules for identity ids, keys and thumbprints, and the generators of keys and generation ids. */
final class IdentityRules {
    /** Device and module ids: up to 128 ASCII alphanumerics and {@code - . + % _ # * ? ! ( ) , : = @ $ '}. */
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9\\-.+%_#*?!(),:=@$']{1,128}");
    private static final Pattern THUMBPRINT = Pattern.compile("[0-9A-Fa-f]{40}|[0-9A-Fa-f]{64}");
    private static final int MIN_KEY_BYTES = 16;
    private static final int MAX_KEY_BYTES = 64;
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Generation ids only need to differ between incarnations of an id: a clock-seeded counter does. */
    private static final AtomicLong GENERATION = new AtomicLong(System.currentTimeMillis() * 10_000);

    private IdentityRules() {
    }

    static void checkDeviceId(String id) {
        checkId(id, "deviceId");
    }

    static void checkModuleId(String id) {
        checkId(id, "moduleId");
    }

    private static void checkId(String id, String field) {
        if (id == null || id.isEmpty()) {
            throw new HubException(HubErrorCode.ArgumentNull, field + " is required");
        }
        if (!ID.matcher(id).matches()) {
            throw new HubException(HubErrorCode.ArgumentInvalid, field + " '" + abbreviate(id) + "' is invalid: "
                    + "up to 128 characters, ASCII letters, digits and - . + % _ # * ? ! ( ) , : = @ $ '");
        }
    }

    static void checkKey(String key, String field) {
        byte[] raw;
        try {
            raw = Base64.getDecoder().decode(key);
        } catch (IllegalArgumentException e) {
            throw new HubException(HubErrorCode.ArgumentInvalid, field + " is not valid base64");
        }
        if (raw.length < MIN_KEY_BYTES || raw.length > MAX_KEY_BYTES) {
            throw new HubException(HubErrorCode.ArgumentInvalid, field + " must be between " + MIN_KEY_BYTES
                    + " and " + MAX_KEY_BYTES + " bytes long (base64-decoded)");
        }
    }

    /** Normalises a thumbprint to upper-case hex; null stays null. */
    static String checkThumbprint(String thumbprint, String field) {
        if (thumbprint == null || thumbprint.isEmpty()) {
            return null;
        }
        String compact = thumbprint.replace(":", "").replace(" ", "");
        if (!THUMBPRINT.matcher(compact).matches()) {
            throw new HubException(HubErrorCode.ArgumentInvalid, field
                    + " must be a SHA-1 (40 hex digits) or SHA-256 (64 hex digits) certificate thumbprint");
        }
        return compact.toUpperCase(Locale.ROOT);
    }

    static String newKey() {
        byte[] key = new byte[32];
        RANDOM.nextBytes(key);
        return Base64.getEncoder().encodeToString(key);
    }


    static String newGenerationId() {
        return Long.toString(GENERATION.incrementAndGet());
    }

    /** Ids in messages are cut short: a 10 kB id must not make a 10 kB log line. */
    static String abbreviate(String id) {
        return id.length() <= 140 ? id : id.substring(0, 140) + "...";
    }
}
