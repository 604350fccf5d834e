package io.ferryhub.hub.service.auth;

/** The permissions a shared access policy grants, as IoT Hub names them. */
public enum Permission {
    RegistryRead,
    RegistryWrite,
    ServiceConnect,
    DeviceConnect
}
