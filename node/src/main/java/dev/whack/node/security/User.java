package dev.whack.node.security;

import java.security.MessageDigest;

/**
 * One user of the auth file: a name, a role and a password hash, and the fingerprint of the last
 * password verified for it (so that a client reconnecting with the same password is not put through
 * PBKDF2 again).
 *
 * <p>Concurrency: the fingerprint is a volatile reference to an array never changed once set; the
 * rest is immutable. A reload makes new users, so a changed password forgets the old fingerprint.
 */
public final class User {
  private final String name;
  private final Role role;
  private final PasswordHash hash;
  private final String tenant;
  private volatile byte[] verified;

  User(String name, Role role, PasswordHash hash, String tenant) {
    this.name = name;
    this.role = role;
    this.hash = hash;
    this.tenant = tenant;
  }

  public String name() {
    return name;
  }

  public Role role() {
    return role;
  }

  /**
   * The tenant the user works in ({@code tenant=<name>} in the auth file), or null for the default
   * tenant; an {@code admin} of no tenant is the admin of all of them (docs/security.md).
   */
  public String tenant() {
    return tenant;
  }

  /** Whether the user may create, drop and list tenants: an admin of no tenant. */
  public boolean adminOfAllTenants() {
    return tenant == null && role == Role.ADMIN;
  }

  PasswordHash hash() {
    return hash;
  }

  /** Whether {@code passwordUtf8} is the password last verified for this user (no PBKDF2). */
  boolean remembers(byte[] fingerprint) {
    byte[] known = verified;
    return known != null && MessageDigest.isEqual(known, fingerprint);
  }

  void remember(byte[] fingerprint) {
    verified = fingerprint;
  }
}
