'use client'

import { createClient, type SupabaseClient } from '@supabase/supabase-js'
import { CLIENT_OPTIONS, keepClient } from './supabase-browser'

/**
 * The client for a page that already knows Supabase is in use (the login page, from its
 * server render): a module of its own, so that only those pages carry supabase-js up front.
 */
export const supabaseClientFor = (url: string, anonKey: string): SupabaseClient => keepClient(() => createClient(url, anonKey, CLIENT_OPTIONS))
