package io.ferryhub.hub.storage;

import io.ferryhub.hub.storage.KeyValueStore.Mutation;

import java.util.ArrayList;
import java.util.List;

/**
 * Keys of records that belong to one identity (twins, stream policies): the device id, or
 * {@code deviceId + '\0' + moduleId} for a module, so a device's modules follow it in key order and go with it in
 * one scan.
 */
public final class IdentityKeys {
    public static final char SEPARATOR = '\0';

    private IdentityKeys() {
    }

    /** @param moduleId null for a device */
    public static String of(String deviceId, String moduleId) {
        return moduleId == null ? deviceId : deviceId + SEPARATOR + moduleId;
    }

    /** The device id of a key made by {@link #of}. */
    public static String deviceIdOf(String key) {
        int sep = key.indexOf(SEPARATOR);
        return sep < 0 ? key : key.substring(0, sep);
    }

    /** The module id of a key made by {@link #of}; null for a device's key. */
    public static String moduleIdOf(String key) {
        int sep = key.indexOf(SEPARATOR);
        return sep < 0 ? null : key.substring(sep + 1);
    }

    /** The mutations deleting an identity's record in {@code namespace}; for a device, its modules' too. */
    public static List<Mutation> deletions(KeyValueStore store, String namespace, String deviceId, String moduleId) {
        List<Mutation> mutations = new ArrayList<>();
        mutations.add(Mutation.delete(namespace, of(deviceId, moduleId)));
        if (moduleId == null) {
            for (KeyValueStore.Entry e : store.scanPrefix(namespace, deviceId + SEPARATOR, Integer.MAX_VALUE)) {
                mutations.add(Mutation.delete(namespace, e.key()));
            }
        }
        return mutations;
    }
}
