package io.ferryhub.hub.service.auth;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * What a hub's set of shared access policies must always be: at most {@value #MAX_POLICIES} policies (IoT Hub's
 * limit), each with a valid name and a non-empty set of rights, at least one granting RegistryWrite (IoT Hub's rule:
 * someone must be able to manage the registry) and at least one granting every right (this hub's: the policy routes
 * need such a caller, so without one nobody could manage policies again). Every check throws a {@link HubException}
 * whose message says what to do instead.
 */
public final class SharedAccessPolicyRules {
    /** IoT Hub's limit per hub. */
    public static final int MAX_POLICIES = 16;
    public static final int MAX_NAME_LENGTH = 64;
    /**
     * Letters, digits, '.', '-' and '_', starting with a letter or digit: a name travels in connection strings
     * ({@code ;} and {@code =} are separators), SAS tokens' {@code skn}, AMQP user names ({@code name@sas.root.hub})
     * and URL paths, so it holds nothing any of them would need to escape.
     */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0," + (MAX_NAME_LENGTH - 1) + "}");

    private SharedAccessPolicyRules() {
    }

    /** @throws HubException ArgumentInvalid (400) for a name the hub does not take */
    public static void checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new HubException(HubErrorCode.ArgumentInvalid, "invalid shared access policy name '" + name
                    + "': use 1 to " + MAX_NAME_LENGTH + " letters, digits, '.', '-' or '_', starting with a "
                    + "letter or digit");
        }
    }

    /**
     * Parses rights as IoT Hub writes them ({@code "RegistryRead, ServiceConnect"}; commas, spaces or both between
     * names, case as IoT Hub spells them or not).
     *
     * @throws HubException ArgumentInvalid (400) for an empty list or a name that is not a right
     */
    public static Set<Permission> parseRights(String text) {
        EnumSet<Permission> rights = EnumSet.noneOf(Permission.class);
        for (String part : text == null ? new String[0] : text.split("[,\\s]+")) {
            if (part.isEmpty()) {
                continue; // around leading or trailing separators
            }
            rights.add(Arrays.stream(Permission.values())
                    .filter(p -> p.name().toLowerCase(Locale.ROOT).equals(part.toLowerCase(Locale.ROOT)))
                    .findFirst()
                    .orElseThrow(() -> new HubException(HubErrorCode.ArgumentInvalid, "unknown right '" + part
                            + "': use any of " + allRights())));
        }
        if (rights.isEmpty()) {
            // "", " " and "," alike (SharedAccessPolicyRulesFuzzTest found "," parsed as no rights at all)
            throw new HubException(HubErrorCode.ArgumentInvalid, "a shared access policy needs at least one right: "
                    + allRights());
        }
        return rights;
    }

    /** As IoT Hub prints them: in declaration order, comma-separated. */
    public static String format(Set<Permission> rights) {
        return Arrays.stream(Permission.values()).filter(rights::contains).map(Enum::name)
                .collect(Collectors.joining(", "));
    }

    private static String allRights() {
        return Arrays.stream(Permission.values()).map(Enum::name).collect(Collectors.joining(", "));
    }

    /**
     * Checks that {@code after}, the policies as a change would leave them, keep the rules; {@code change} names the
     * change for the message ("deleting policy 'x'").
     *
     * @throws HubException ArgumentInvalid (400) beyond {@value #MAX_POLICIES} policies, InvalidOperation (400) when
     *         no policy would grant RegistryWrite, or none every right
     */
    public static void checkSet(List<SharedAccessPolicy> after, String change) {
        if (after.size() > MAX_POLICIES) {
            throw new HubException(HubErrorCode.ArgumentInvalid, "a hub has at most " + MAX_POLICIES
                    + " shared access policies: delete one before adding another");
        }
        if (after.stream().noneMatch(p -> p.rights().contains(Permission.RegistryWrite))) {
            throw new HubException(HubErrorCode.InvalidOperation, change + " would leave no policy granting "
                    + "RegistryWrite: give another policy RegistryWrite first");
        }
        if (after.stream().noneMatch(p -> p.rights().containsAll(EnumSet.allOf(Permission.class)))) {
            throw new HubException(HubErrorCode.InvalidOperation, change + " would leave no policy granting every "
                    + "right (" + allRights() + "), which managing policies needs: give another policy every right "
                    + "first");
        }
    }
}
